//! The CI set-ups documented in the README, run for real: the GitHub Actions, GitLab CI and
//! pre-commit command lines on a copy of the example site, with their exit codes and files checked.
//! Each command line is also looked up in the README, so the documentation cannot drift from what is
//! tested.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Csv, TempDir, copy_dir, site_dir};

const README: &str = include_str!("../README.md");

const GITHUB: &str = "affcheck check public --base-url https://www.example.com/ --format sarif --format github --format markdown --output-dir affcheck-report";
const GITLAB: &str = "affcheck check public --base-url https://www.example.com/ --format junit --output affcheck.junit.xml";
const BASELINE_ONCE: &str = "affcheck check public --base-url https://www.example.com/ --output .affcheck-baseline.csv --fail-on never";
const PRE_COMMIT: &str = "affcheck check public --base-url https://www.example.com/ --baseline .affcheck-baseline.csv --quiet --output /dev/null";

/// A repository with the example site built into `public/`.
fn repo() -> TempDir {
    let tmp = TempDir::new("ci");
    copy_dir(&site_dir(), &tmp.path().join("public"));
    tmp
}

/// Runs a documented command line (split on spaces) in `dir`, as CI would.
fn run_documented(line: &str, dir: &Path) -> (i32, String) {
    assert!(
        README.contains(line),
        "the README no longer documents: {line}"
    );
    let mut words = line.split(' ');
    assert_eq!(words.next(), Some("affcheck"));
    let out = Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .args(words)
        .current_dir(dir)
        .env("GITHUB_WORKSPACE", dir)
        .output()
        .expect("run affcheck");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn count_error_rows(csv: &Csv) -> usize {
    csv.rows_where("severity", "error").len()
}

#[test]
fn github_actions_step_writes_sarif_annotations_and_summary() {
    let repo = repo();
    let (code, stderr) = run_documented(GITHUB, repo.path());
    assert_eq!(code, 1, "the example site has violations:\n{stderr}");
    let dir = repo.path().join("affcheck-report");

    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    // Annotations land on the file of the repository and the line of the link.
    let located = results.iter().find(|r| {
        r["ruleId"] == "undisclosed"
            && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "public/undisclosed-no-disclosure.html"
    });
    let located = located.expect("a result on public/undisclosed-no-disclosure.html");
    assert!(located["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() > Some(1));

    let github = std::fs::read_to_string(dir.join("report.github.txt")).unwrap();
    assert!(
        github
            .lines()
            .any(|l| l.starts_with("::error file=public/undisclosed-no-disclosure.html,line=")),
        "workflow commands name the repository file:\n{github}"
    );
    assert_eq!(
        github.lines().filter(|l| l.starts_with("::error ")).count(),
        results.iter().filter(|r| r["level"] == "error").count()
    );

    let summary = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(summary.contains("| `undisclosed` |"), "{summary}");
}

#[test]
fn gitlab_job_writes_one_junit_test_case_per_page() {
    let repo = repo();
    let (code, stderr) = run_documented(GITLAB, repo.path());
    assert_eq!(code, 1, "{stderr}");
    let xml = std::fs::read_to_string(repo.path().join("affcheck.junit.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed JUnit XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.local_name().as_ref() {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    let pages = walk_html(&repo.path().join("public")).len();
    assert_eq!(cases, pages);
    let csv = csv_of(repo.path(), &["--fail-on", "never"]);
    assert_eq!(failures, count_error_rows(&csv));
}

#[test]
fn pre_commit_hook_fails_only_on_new_findings() {
    let repo = repo();
    let (code, stderr) = run_documented(BASELINE_ONCE, repo.path());
    assert_eq!(code, 0, "--fail-on never records the baseline:\n{stderr}");

    let (code, stderr) = run_documented(PRE_COMMIT, repo.path());
    assert_eq!(code, 0, "nothing new:\n{stderr}");

    // An edit elsewhere on a page shifts line numbers but makes nothing new.
    let page = repo.path().join("public/undisclosed-no-disclosure.html");
    let html = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, html.replacen("<body", "\n\n\n<body", 1)).unwrap();
    let (code, _) = run_documented(PRE_COMMIT, repo.path());
    assert_eq!(code, 0, "moved lines stay baselined");

    // One new undisclosed affiliate link on one page: exactly one new finding, exit 1.
    let clean = repo.path().join("public/no-affiliate-links.html");
    let html = std::fs::read_to_string(&clean).unwrap();
    let at = html.find("</p>").expect("a paragraph") + 4;
    let edited = format!(
        "{}<p>Buy it <a href=\"https://www.anrdoezrs.net/click-100443221-9999\">here</a>.</p>{}",
        &html[..at],
        &html[at..]
    );
    std::fs::write(&clean, edited).unwrap();
    let (code, _) = run_documented(PRE_COMMIT, repo.path());
    assert_eq!(code, 1);
    let csv = csv_of(
        repo.path(),
        &["--baseline", ".affcheck-baseline.csv", "--fail-on", "never"],
    );
    let rows: Vec<_> = csv.rows.iter().collect();
    assert_eq!(rows.len(), 1, "exactly one new finding: {rows:?}");
    assert_eq!(rows[0]["rule"], "undisclosed");
    assert_eq!(
        rows[0]["link_url"],
        "https://www.anrdoezrs.net/click-100443221-9999"
    );
}

#[test]
fn every_format_parses_and_agrees_with_the_csv() {
    let repo = repo();
    let out = repo.path().join("all");
    let status = Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .args(["check", "public", "--base-url", "https://www.example.com/"])
        .args(["--output-dir", "all", "--fail-on", "never"])
        .args(
            [
                "csv", "json", "jsonl", "sarif", "junit", "github", "markdown",
            ]
            .iter()
            .flat_map(|f| ["--format", f]),
        )
        .current_dir(repo.path())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let csv = Csv::read(&out.join("report.csv"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), csv.rows.len());
    let jsonl = std::fs::read_to_string(out.join("report.jsonl")).unwrap();
    let objects: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(
        objects.iter().filter(|o| o["type"] == "finding").count(),
        csv.rows.len()
    );
    assert_eq!(objects.last().unwrap()["type"], "summary");
    for (finding, row) in objects.iter().zip(&csv.rows) {
        assert_eq!(finding["rule"], row["rule"].as_str());
        assert_eq!(finding["link_url"], row["link_url"].as_str());
    }
}

#[test]
fn several_formats_without_an_output_dir_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .args(["check"])
        .arg(site_dir())
        .args(["--format", "csv", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output-dir"));
}

#[test]
fn init_writes_a_starter_config_that_check_accepts_and_refuses_to_overwrite() {
    let repo = repo();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_affcheck"))
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap()
    };
    assert_eq!(run(&["init"]).status.code(), Some(0));
    assert!(repo.path().join("affcheck.toml").is_file());
    let again = run(&["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let checked = run(&["check", "public", "--output", "r.csv"]);
    assert_eq!(checked.status.code(), Some(1), "{:?}", checked);
}

#[test]
fn config_file_settings_apply_and_flags_override_them() {
    let repo = repo();
    std::fs::write(
        repo.path().join("affcheck.toml"),
        "base_url = \"https://www.example.com/\"\nfail_on = \"never\"\n\n[severity]\nundisclosed = \"off\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .args(["check", "public", "--output", "r.csv"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "fail_on = never from the file");
    let csv = Csv::read(&repo.path().join("r.csv"));
    assert!(csv.rows_where("rule", "undisclosed").is_empty());
    assert!(
        csv.rows
            .iter()
            .all(|r| r["page_url"].starts_with("https://www.example.com/"))
    );
    let out = Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .args(["check", "public", "--output", "r.csv", "--fail-on", "error"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the flag wins over the file");

    std::fs::write(repo.path().join("affcheck.toml"), "fail_onn = \"never\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .args(["check", "public"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("affcheck.toml:1") && err.contains("fail_onn"),
        "{err}"
    );
}

fn csv_of(dir: &Path, extra: &[&str]) -> Csv {
    let out = Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .args(["check", "public", "--base-url", "https://www.example.com/"])
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap();
    Csv::parse(&String::from_utf8_lossy(&out.stdout))
}

fn walk_html(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk_html(&p));
        } else if p.extension().is_some_and(|e| e == "html" || e == "htm") {
            out.push(p);
        }
    }
    out
}
