//! The wording test set (`tests/wording/*.tsv`, format in its README) run through the whole audit:
//! each row becomes a page with one Amazon affiliate link, and the link's status in the inventory
//! says whether the audit read the row as a disclosure.
//!
//! The test fails when disclosure recall drops below 0.97, label recall below 0.95, or more than
//! 0.5 % of the non-disclosures are accepted; it prints the figures per language and per form and
//! every row decided wrongly.
//!
//! The binary reads the rules from the repository's `rules/` folder at run time, so after editing
//! a rules file the compiled test binary can be run again directly (`target/debug/deps/wording-…
//! --nocapture`) without a rebuild. `AFFCHECK_WORDING_LANG=de,fr` restricts the run to some
//! languages (the thresholds are then not checked); `AFFCHECK_WORDING_RULES=DIR` adds a folder of
//! draft rules after the repository's; `AFFCHECK_BIN` runs another build of the binary;
//! `AFFCHECK_WORDING_SET=DIR` reads the TSV files of another folder (a set kept apart).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use common::{Csv, TempDir, run};

const MIN_DISCLOSURE_RECALL: f64 = 0.97;
const MIN_LABEL_RECALL: f64 = 0.95;
const MAX_FALSE_ACCEPTANCE: f64 = 0.005;
const MIN_ROWS: usize = 600;
const MIN_NOT_ROWS: usize = 200;
const MIN_LANGUAGES: usize = 25;

const AMAZON: &str = "https://www.amazon.com/dp/B0TESTLINK?tag=wordingtest-20";

#[derive(Debug, Clone)]
struct Row {
    id: String,
    lang: String,
    kind: String,
    form: String,
    text: String,
}

fn read_set() -> Vec<Row> {
    let dir = std::env::var_os("AFFCHECK_WORDING_SET")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wording"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/wording")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable TSV");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("id\tlang\tkind\tform\ttext\tseen"),
            "{}: header",
            file.display()
        );
        for (n, line) in lines.enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 6, "{}:{}: six columns", file.display(), n + 2);
            assert!(
                matches!(cols[2], "disclosure" | "label" | "not"),
                "{}:{}: kind `{}`",
                file.display(),
                n + 2,
                cols[2]
            );
            rows.push(Row {
                id: cols[0].into(),
                lang: cols[1].into(),
                kind: cols[2].into(),
                form: cols[3].into(),
                text: cols[4].into(),
            });
        }
    }
    rows
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The page for one row: the text in a paragraph, the link in the next one, or where `[[…]]` says.
fn page_for(row: &Row) -> String {
    let mut body = String::new();
    let inline = row.text.contains("[[");
    for para in row.text.split(" ¶ ") {
        let mut p = String::new();
        let mut rest = para;
        while let Some(open) = rest.find("[[") {
            let close = rest[open..]
                .find("]]")
                .map(|c| open + c)
                .expect("balanced [[ ]]");
            p.push_str(&escape(&rest[..open]));
            write!(
                p,
                "<a href=\"{AMAZON}\">{}</a>",
                escape(&rest[open + 2..close])
            )
            .unwrap();
            rest = &rest[close + 2..];
        }
        p.push_str(&escape(rest));
        writeln!(body, "<p>{p}</p>").unwrap();
    }
    if !inline {
        writeln!(body, "<p><a href=\"{AMAZON}\">Product</a></p>").unwrap();
    }
    format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>Test page</title></head>\n<body><main>\n<h1>Product notes</h1>\n{body}</main></body></html>\n",
        row.lang
    )
}

#[derive(Default, Clone, Copy)]
struct Tally {
    rows: usize,
    accepted: usize,
    graded: usize,
}

impl Tally {
    fn rate(&self) -> f64 {
        if self.rows == 0 {
            1.0
        } else {
            self.accepted as f64 / self.rows as f64
        }
    }
}

#[test]
fn the_wording_set_is_read_as_publishers_mean_it() {
    let only: Option<Vec<String>> = std::env::var("AFFCHECK_WORDING_LANG")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let all = read_set();
    let mut ids = std::collections::HashSet::new();
    for r in &all {
        assert!(ids.insert(r.id.clone()), "duplicate id {}", r.id);
    }
    let rows: Vec<Row> = all
        .into_iter()
        .filter(|r| only.as_ref().is_none_or(|o| o.contains(&r.lang)))
        .collect();
    let dir = TempDir::new("wording");
    for r in &rows {
        dir.write(&format!("pages/{}.html", r.id), page_for(r));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let inventory = dir.path().join("inventory.csv");
    // AFFCHECK_WORDING_RULES: more rules folders, read after the repository's (for drafts).
    let extra: Vec<std::ffi::OsString> = std::env::var_os("AFFCHECK_WORDING_RULES")
        .map(|v| {
            std::env::split_paths(&v)
                .flat_map(|p| ["--rules".into(), p.into_os_string()])
                .collect()
        })
        .unwrap_or_default();
    // AFFCHECK_BIN: another build of the binary (a copy that a rebuild does not replace mid-run).
    let bin =
        std::env::var_os("AFFCHECK_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_affcheck").into());
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("check").args([
        dir.path().join("pages").as_os_str(),
        "--no-default-rules".as_ref(),
        "--rules".as_ref(),
        root.join("rules").as_os_str(),
        "--rules".as_ref(),
        root.join("rules/wording").as_os_str(),
        "--inventory".as_ref(),
        inventory.as_os_str(),
        "--output".as_ref(),
        dir.path().join("report.csv").as_os_str(),
        "--fail-on".as_ref(),
        "never".as_ref(),
        "-q".as_ref(),
    ]);
    cmd.args(&extra);
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "affcheck failed: {}", out.stderr);
    let inv = Csv::read(&inventory);
    let mut status: BTreeMap<String, (String, String, String, String)> = BTreeMap::new();
    for row in &inv.rows {
        let page = row["page_url"].clone();
        let id = Path::new(&page)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        status.entry(id).or_insert((
            row["status"].clone(),
            row["disclosure_strength"].clone(),
            row["disclosure_rule"].clone(),
            row["disclosure_excerpt"].clone(),
        ));
    }

    let mut by_kind: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut by_lang: BTreeMap<(String, &str), Tally> = BTreeMap::new();
    let mut by_form: BTreeMap<(&str, String), Tally> = BTreeMap::new();
    let mut wrong = String::new();
    for r in &rows {
        let (st, strength, rule, excerpt) = status
            .get(&r.id)
            .cloned()
            .unwrap_or_else(|| panic!("{}: no affiliate link found on the page", r.id));
        let accepted = st == "compliant";
        let expected_strength = if r.kind == "disclosure" {
            "explicit"
        } else {
            "label"
        };
        let graded = accepted && strength == expected_strength;
        for t in [
            by_kind.entry(r.kind.as_str()).or_default(),
            by_lang
                .entry((r.lang.clone(), r.kind.as_str()))
                .or_default(),
            by_form
                .entry((r.kind.as_str(), r.form.clone()))
                .or_default(),
        ] {
            t.rows += 1;
            t.accepted += accepted as usize;
            t.graded += graded as usize;
        }
        let right = accepted == (r.kind != "not");
        if !right {
            let what = if accepted {
                format!("FALSE ACCEPT by {rule} ({excerpt})")
            } else {
                format!("MISSED ({st})")
            };
            writeln!(wrong, "{} [{} {}] {what}: {}", r.id, r.kind, r.form, r.text).unwrap();
        }
    }

    let mut table = String::new();
    writeln!(
        table,
        "lang  disclosure recall   label recall   not accepted   (strength as labelled)"
    )
    .unwrap();
    let langs: std::collections::BTreeSet<&String> = by_lang.keys().map(|(l, _)| l).collect();
    for lang in &langs {
        let get = |k: &str| {
            by_lang
                .get(&((*lang).clone(), k))
                .copied()
                .unwrap_or_default()
        };
        let (d, l, n) = (get("disclosure"), get("label"), get("not"));
        writeln!(
            table,
            "{lang:<5} {:>3}/{:<3} {:.3}       {:>2}/{:<2} {:.3}    {:>2}/{:<2} {:.3}    {}/{} {}/{}",
            d.accepted,
            d.rows,
            d.rate(),
            l.accepted,
            l.rows,
            l.rate(),
            n.accepted,
            n.rows,
            n.rate(),
            d.graded,
            d.rows,
            l.graded,
            l.rows
        )
        .unwrap();
    }
    writeln!(table, "\nkind/form                     accepted").unwrap();
    for ((kind, form), t) in &by_form {
        writeln!(
            table,
            "{:<29} {:>3}/{:<3} {:.3}   strength as labelled {}/{}",
            format!("{kind}/{form}"),
            t.accepted,
            t.rows,
            t.rate(),
            t.graded,
            t.rows
        )
        .unwrap();
    }
    let d = by_kind.get("disclosure").copied().unwrap_or_default();
    let l = by_kind.get("label").copied().unwrap_or_default();
    let n = by_kind.get("not").copied().unwrap_or_default();
    writeln!(
        table,
        "\nALL: {} rows in {} languages; disclosure recall {:.3} ({}/{}), label recall {:.3} ({}/{}), non-disclosures accepted {:.4} ({}/{}); strength as labelled {}/{} disclosures, {}/{} labels",
        rows.len(),
        langs.len(),
        d.rate(),
        d.accepted,
        d.rows,
        l.rate(),
        l.accepted,
        l.rows,
        n.rate(),
        n.accepted,
        n.rows,
        d.graded,
        d.rows,
        l.graded,
        l.rows
    )
    .unwrap();
    println!("{table}\n{wrong}");
    if only.is_some() {
        return;
    }
    assert!(rows.len() >= MIN_ROWS, "the set has {} rows", rows.len());
    assert!(
        n.rows >= MIN_NOT_ROWS,
        "the set has {} non-disclosures",
        n.rows
    );
    assert!(
        langs.len() >= MIN_LANGUAGES,
        "the set has {} languages",
        langs.len()
    );
    assert!(
        d.rate() >= MIN_DISCLOSURE_RECALL,
        "disclosure recall {:.3} < {MIN_DISCLOSURE_RECALL}\n{table}\n{wrong}",
        d.rate()
    );
    assert!(
        l.rate() >= MIN_LABEL_RECALL,
        "label recall {:.3} < {MIN_LABEL_RECALL}\n{table}\n{wrong}",
        l.rate()
    );
    assert!(
        n.rate() <= MAX_FALSE_ACCEPTANCE,
        "non-disclosures accepted {:.4} > {MAX_FALSE_ACCEPTANCE}\n{table}\n{wrong}",
        n.rate()
    );
}
