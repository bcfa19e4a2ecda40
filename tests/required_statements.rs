//! Required statements as data: a program defined only in a user rules file
//! (`tests/fixtures/statement-rules/trailmix.toml`) gets its own rule, end to end through
//! `affcheck check --rules`.

mod common;

use std::path::{Path, PathBuf};

/// The user rules file of the made-up Trailmix Partner Network.
fn trailmix_rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/statement-rules/trailmix.toml")
}

const LINK: &str =
    r#"<p><a href="https://go.trailmix.example/p/stove?tmid=blog-7">Camp stove</a></p>"#;

/// `affcheck check PAGE --rules trailmix.toml EXTRA…`: the run and its CSV rows as (rule,
/// severity, network, message).
fn check(body: &str, extra: &[&str]) -> (common::Run, Vec<[String; 4]>) {
    let dir = common::TempDir::new("required-statement");
    let page = dir.write("page.html", format!("<html><body>{body}</body></html>"));
    let out = dir.path().join("report.csv");
    let run = common::run(
        common::check([page.as_os_str(), "--output".as_ref(), out.as_os_str()])
            .arg("--rules")
            .arg(trailmix_rules())
            .args(extra),
    );
    let rows = if out.is_file() {
        common::Csv::read(&out)
            .rows
            .iter()
            .map(|r| ["rule", "severity", "network", "message"].map(|c| r[c].clone()))
            .collect()
    } else {
        Vec::new()
    };
    (run, rows)
}

#[test]
fn a_link_without_the_statement_gets_the_rule_the_data_defines() {
    let (run, rows) = check(
        &format!("<p>We earn a commission when you buy through links on this page.</p>{LINK}"),
        &[],
    );
    assert_eq!(
        run.code, 1,
        "an error-level finding fails the run: {}",
        run.stderr
    );
    assert_eq!(
        rows,
        [[
            "trailmix-statement-missing".to_string(),
            "error".into(),
            "Trailmix Partner Network".into(),
            "The page links to Trailmix without the Trailmix Partner statement.".into(),
        ]]
    );
}

#[test]
fn the_statement_in_any_language_of_its_wording_satisfies_it() {
    for statement in [
        "As a Trailmix Partner, we earn a commission on qualifying purchases.",
        "Als Trailmix-Partner verdienen wir an qualifizierten Käufen eine Provision.",
    ] {
        let (run, rows) = check(&format!("<p>{statement}</p>{LINK}"), &[]);
        assert_eq!(run.code, 0, "{statement}: {}", run.stderr);
        assert!(rows.is_empty(), "{statement}: {rows:?}");
    }
}

#[test]
fn a_hidden_statement_does_not_count() {
    let (_, rows) = check(
        &format!(
            "<p>We earn a commission when you buy through links on this page.</p>\
             <p hidden>As a Trailmix Partner, we earn a commission on qualifying purchases.</p>{LINK}"
        ),
        &[],
    );
    let rules: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(rules, ["trailmix-statement-missing"]);
}

#[test]
fn the_amazon_statement_does_not_satisfy_another_program() {
    let amazon = r#"<p><a href="https://www.amazon.com/dp/B0X?tag=blog-20">Tent</a></p>"#;
    let (_, rows) = check(
        &format!("<p>As an Amazon Associate we earn from qualifying purchases.</p>{amazon}{LINK}"),
        &[],
    );
    let rules: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(rules, ["trailmix-statement-missing"]);
    // Each program's statement is checked on its own: both missing, one finding each.
    let (_, rows) = check(
        &format!(
            "<p>We earn a commission on purchases made through these links.</p>{amazon}{LINK}"
        ),
        &[],
    );
    let rules: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        rules,
        ["amazon-statement-missing", "trailmix-statement-missing"]
    );
}

#[test]
fn the_config_sets_the_severity_of_a_data_defined_rule() {
    let dir = common::TempDir::new("required-statement-config");
    let config = dir.write(
        "affcheck.toml",
        "[severity]\ntrailmix-statement-missing = \"off\"\n",
    );
    let (run, rows) = check(
        &format!("<p>We earn a commission when you buy through links on this page.</p>{LINK}"),
        &["--config", config.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(rows.is_empty(), "{rows:?}");
    // Without the rules file the id is unknown, and the config is an error naming its line.
    let page = dir.write("page.html", LINK);
    let run = common::run(&mut common::check([
        page.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
    ]));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("affcheck.toml:2:1: unknown rule `trailmix-statement-missing` in [severity]"),
        "{}",
        run.stderr
    );
}

#[test]
fn sarif_describes_the_data_defined_rule() {
    let dir = common::TempDir::new("required-statement-sarif");
    let page = dir.write("page.html", LINK);
    let run = common::run(
        common::check([page.as_os_str(), "--format".as_ref(), "sarif".as_ref()])
            .arg("--rules")
            .arg(trailmix_rules()),
    );
    let log: serde_json::Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let at = ids
        .iter()
        .position(|&id| id == "trailmix-statement-missing")
        .unwrap_or_else(|| panic!("{ids:?}"));
    assert_eq!(
        rules[at]["shortDescription"]["text"],
        "Trailmix Partner statement missing"
    );
    assert_eq!(rules[at]["defaultConfiguration"]["level"], "error");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let hit = results
        .iter()
        .find(|r| r["ruleId"] == "trailmix-statement-missing")
        .expect("a result for the missing statement");
    assert_eq!(hit["ruleIndex"], at);
}

#[test]
fn a_network_naming_an_unknown_statement_stops_the_run() {
    let dir = common::TempDir::new("required-statement-bad");
    let rules = dir.write(
        "bad.toml",
        "[[network]]\nid = \"acme\"\nname = \"Acme\"\nsource = \"test\"\nhosts = [\"acme.example\"]\nrequired_statement = \"acme-partners\"\n",
    );
    let page = dir.write("page.html", LINK);
    let run = common::run(common::check([page.as_os_str()]).arg("--rules").arg(&rules));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("bad.toml")
            && run.stderr.contains("`acme`")
            && run.stderr.contains("`acme-partners`"),
        "{}",
        run.stderr
    );
}
