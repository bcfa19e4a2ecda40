//! `affcheck explain PAGE`: every decision on one page, read as an editor would after CI fails.

mod common;

use std::process::Command;

use common::{TempDir, check, run, site_page};

fn explain<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_affcheck"));
    cmd.arg("explain").args(args);
    cmd
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let r = run(&mut explain(&all));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("one JSON document")
}

#[test]
fn a_hidden_disclosure_is_named_with_its_line_and_what_hides_it() {
    let page = site_page("hidden-disclosure-sr-only.html");
    let r = run(&mut explain([page.as_os_str()]));
    assert_eq!(
        r.code, 1,
        "violations make explain exit 1 like check: {}",
        r.stderr
    );
    let out = &r.stdout;
    assert!(out.contains("violation: hidden-disclosure"), "{out}");
    assert!(out.contains("hidden by a visually-hidden class"), "{out}");
    // The near miss under the link points at the disclosure's line in the file.
    let source = std::fs::read_to_string(&page).unwrap();
    let line = source
        .lines()
        .position(|l| l.contains("class=\"sr-only\""))
        .expect("the fixture hides its disclosure with a class")
        + 1;
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with(&format!("- line {line}:"))),
        "near miss on line {line}:\n{out}"
    );
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn a_negated_statement_is_a_near_miss_not_a_disclosure() {
    let v = json(&[site_page("undisclosed-negated-statement.html")
        .to_str()
        .unwrap()]);
    assert_eq!(v["disclosures"].as_array().unwrap().len(), 0, "{v:#}");
    let misses = v["near_misses"].as_array().unwrap();
    assert_eq!(misses.len(), 1, "{v:#}");
    assert_eq!(misses[0]["miss"], "negated");
    for link in v["links"].as_array().unwrap() {
        assert_eq!(link["status"]["violation"], "undisclosed");
        assert!(link["near"][0].as_str().unwrap().contains("negated"));
    }
}

#[test]
fn verdicts_match_the_check_report_for_every_page_of_the_example_site() {
    let base = "https://example-site.test/";
    for entry in std::fs::read_dir(common::site_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let url = format!("{base}{name}");
        let p = path.to_str().unwrap();
        let v = json(&[p, "--base-url", &url]);
        let checked = run(&mut check([p, "--base-url", &url]));
        let rows = checked.report();
        let mut from_check: Vec<(String, String)> = rows
            .rows
            .iter()
            .map(|r| (r["rule"].clone(), r["line"].clone()))
            .collect();
        let mut from_explain: Vec<(String, String)> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["line"].to_string(),
                )
            })
            .collect();
        from_check.sort();
        from_explain.sort();
        assert_eq!(from_explain, from_check, "{name}");
        // Every violation among the links is one of the findings.
        for link in v["links"].as_array().unwrap() {
            if let Some(rule) = link["status"]["violation"].as_str() {
                let line = link["line"].to_string();
                assert!(
                    from_check.iter().any(|(r, l)| r == rule && *l == line),
                    "{name}: {link}"
                );
            }
        }
    }
}

#[test]
fn a_compliant_link_names_the_disclosure_that_decided_it() {
    let dir = TempDir::new("explain-compliant");
    let page = dir.write(
        "post.html",
        "<html lang=\"en\"><body>\n<p>Prices change often.</p>\n\
         <p>We get a small commission when you shop through the links in this guide.</p>\n\
         <p>Our pick: <a href=\"https://www.awin1.com/cread.php?awinmid=1234&amp;awinaffid=5678&amp;ued=https%3A%2F%2Fshop.example%2Ftent\">the tent</a>.</p>\n\
         </body></html>\n",
    );
    let v = json(&[page.to_str().unwrap()]);
    let link = &v["links"][0];
    assert_eq!(link["status"], "compliant", "{v:#}");
    assert_eq!(link["line"], 4);
    assert_eq!(link["network"], "Awin");
    assert_eq!(link["destination"], "https://shop.example/tent");
    assert_eq!(link["deciding"]["line"], 3);
    assert_eq!(link["deciding"]["strength"], "explicit");
    assert!(link["near"].as_array().unwrap().is_empty());
    let r = run(&mut explain([page.to_str().unwrap(), "--color", "always"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\x1b[32mcompliant"), "{}", r.stdout);
}

#[test]
fn a_folder_is_refused_with_advice() {
    let r = run(&mut explain([common::site_dir().as_os_str()]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("is a folder") && r.stderr.contains("affcheck check"),
        "{}",
        r.stderr
    );
}

#[test]
fn page_controlled_text_cannot_reach_the_terminal_raw() {
    let dir = TempDir::new("explain-control");
    let page = dir.write(
        "p.html",
        "<p><a href=\"https://www.amazon.com/dp/B0X?tag=a-20\">Buy\u{1b}[31m now</a></p>",
    );
    let r = run(&mut explain([page.to_str().unwrap()]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stdout.contains('\x1b'), "{:?}", r.stdout);
}
