//! `affcheck.toml` loaded from disk and applied to real audits.

mod common;

use std::path::PathBuf;

use affcheck::Auditor;
use affcheck::config::{CONFIG_FILE, Config, ConfigError, FailOn, STARTER_TOML, SeverityLevel};
use affcheck::document::Document;
use affcheck::findings::{AuditOptions, PageReport, Rule, RuleId, Severity};
use affcheck::report::Format;
use affcheck::rules::Ruleset;
use std::sync::Arc;

use url::Url;

const AMZ: &str = "https://www.amazon.com/dp/B01?tag=site-20";

/// A fresh folder holding `affcheck.toml` with `text`; returns the file's path.
fn config_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("affcheck-config-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(CONFIG_FILE);
    std::fs::write(&path, text).unwrap();
    path
}

fn cleanup(path: &std::path::Path) {
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

fn audit(display: &str, html: &str, rules: &Arc<Ruleset>, opts: AuditOptions) -> PageReport {
    let doc = Document {
        display: display.to_string(),
        base: Some(Url::parse(display).unwrap()),
        bytes: html.as_bytes().to_vec(),
        content_type: None,
    };
    Auditor::new(rules.clone(), opts).audit(&doc).unwrap()
}

#[test]
fn unknown_key_error_names_file_key_and_line() {
    let path = config_file(
        "unknown",
        "# settings\nformat = [\"sarif\"]\n\n[crawl]\nmax_pages = 10\nmax_pgaes = 20\n",
    );
    let err = Config::load(&path).unwrap_err();
    match &err {
        ConfigError::Invalid {
            path: p,
            line,
            column,
            message,
        } => {
            assert_eq!(p, &path);
            assert_eq!((*line, *column), (6, 1));
            assert!(message.contains("unknown field `max_pgaes`"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().starts_with(&format!(
            "{}:6:1: unknown field `max_pgaes`",
            path.display()
        )),
        "{err}"
    );
    cleanup(&path);
}

#[test]
fn bad_values_point_at_their_line() {
    for (text, line, needle) in [
        (
            "[severity]\nundisclosed = \"fatal\"\n",
            2,
            "unknown variant `fatal`",
        ),
        (
            "[site]\nignore_paths = [\"/ok/**\", \"/bad/[\"]\n",
            2,
            "invalid glob `/bad/[`",
        ),
        (
            "fail_on = \"sometimes\"\n",
            1,
            "unknown variant `sometimes`",
        ),
        (
            "\n\n[[rules.cloaking]]\nid = \"x\"\nsource = \"s\"\nprefix = [\"/deal/\"]\n",
            6,
            "unknown field `prefix`",
        ),
    ] {
        let err = Config::parse("affcheck.toml".as_ref(), text).unwrap_err();
        let ConfigError::Invalid {
            line: got, message, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*got, line, "{text:?}: {err}");
        assert!(message.contains(needle), "{text:?}: {err}");
    }
    let missing =
        Config::load(&std::env::temp_dir().join("no-such-dir-affcheck/affcheck.toml")).unwrap_err();
    assert!(matches!(missing, ConfigError::Read { .. }), "{missing:?}");
}

#[test]
fn unknown_severity_rule_is_an_error_once_the_rules_are_loaded() {
    // A key that is no built-in rule may be a rule of the rules data: known only once they load.
    let c = Config::parse(
        "affcheck.toml".as_ref(),
        "[severity]\nundisclosed = \"warning\"\n\"made-up-rule\" = \"off\"\n",
    )
    .unwrap();
    let err = c.load_rules(&[], true).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "affcheck.toml:3:1: unknown rule `made-up-rule` in [severity]; rules are undisclosed,"
        ),
        "{err}"
    );
    assert!(err.contains("amazon-statement-missing"), "{err}");
    // The same id defined by the config's own rules data is a rule like any other.
    let c = Config::parse(
        "affcheck.toml".as_ref(),
        "[severity]\n\"made-up-rule\" = \"error\"\n\n\
         [[rules.required_statement]]\nid = \"made-up\"\nprogram = \"Made Up\"\nsource = \"test\"\n\
         rule = \"made-up-rule\"\nwording = { en = [\"made up partner\"] }\n",
    )
    .unwrap();
    let rules = Arc::new(c.load_rules(&[], true).unwrap());
    let rule = rules.required_statement("made-up").unwrap().rule;
    assert_eq!(rule.id(), "made-up-rule");
    assert_eq!(rule.severity(), Severity::Warning);
    assert_eq!(c.severity_of(rule), Some(Severity::Error));
}

#[test]
fn settings_and_relative_paths() {
    let path = config_file(
        "settings",
        r#"
format = ["csv", "sarif", "md"]
output_dir = "ci-report"
baseline = "baseline.csv"
base_url = "https://example.com/blog/"
fail_on = "warning"
jobs = 2
rules_dirs = ["my-rules"]

[crawl]
max_depth = 3
include = ['^https://example\.com/blog/']
headers = { "X-Preview" = "1" }
subdomains = true

[site]
disclosure = "We earn a commission from links on this site."
"#,
    );
    let c = Config::load(&path).unwrap();
    let dir = path.parent().unwrap();
    assert_eq!(
        c.format,
        Some(vec![Format::Csv, Format::Sarif, Format::Markdown])
    );
    assert_eq!(c.output_dir, Some(dir.join("ci-report")));
    assert_eq!(c.baseline, Some(dir.join("baseline.csv")));
    assert_eq!(c.rules_dirs, Some(vec![dir.join("my-rules")]));
    assert_eq!(
        c.base_url.as_ref().map(Url::as_str),
        Some("https://example.com/blog/")
    );
    assert_eq!(c.fail_on, Some(FailOn::Warning));
    assert_eq!(FailOn::Warning.threshold(), Some(Severity::Warning));
    assert_eq!(c.jobs, Some(2));
    assert_eq!(c.timeout, None);
    assert_eq!(c.crawl.max_depth, Some(3));
    assert_eq!(c.crawl.subdomains, Some(true));
    assert_eq!(c.crawl.headers.as_ref().unwrap()["X-Preview"], "1");
    assert_eq!(
        c.site_disclosure(),
        Some("We earn a commission from links on this site.")
    );
    assert_eq!(c.path.as_deref(), Some(path.as_path()));
    cleanup(&path);
}

#[test]
fn severity_overrides_apply_to_real_findings() {
    let c = Config::parse(
        "affcheck.toml".as_ref(),
        "[severity]\nundisclosed = \"warning\"\namazon-statement-missing = \"off\"\nweak-disclosure = \"error\"\n",
    )
    .unwrap();
    assert_eq!(
        c.severity.get(&Rule::StatementMissing(RuleId::new(
            "amazon-statement-missing"
        ))),
        Some(&SeverityLevel::Off)
    );
    let rules = Arc::new(Ruleset::defaults().unwrap());
    // weak-disclosure is a notice rule raised to error: the audit must produce notices.
    let notices = false;
    let opts = AuditOptions {
        notices: c.audit_notices(notices),
        ..Default::default()
    };
    assert!(opts.notices);
    let mut undisclosed = audit(
        "https://s.example/a.html",
        &format!("<p><a href=\"{AMZ}\">Buy</a></p>"),
        &rules,
        opts.clone(),
    );
    let mut labelled = audit(
        "https://s.example/b.html",
        &format!("<p>This post contains affiliate links.</p><p><a href=\"{AMZ}\">Buy</a></p>"),
        &rules,
        opts,
    );
    c.apply_to(&mut undisclosed, notices);
    c.apply_to(&mut labelled, notices);
    let got = |p: &PageReport| {
        p.findings
            .iter()
            .map(|f| (f.rule, f.severity))
            .collect::<Vec<_>>()
    };
    // missing-rel-sponsored stays a notice and is dropped without --notices; the Amazon warning is off.
    assert_eq!(
        got(&undisclosed),
        vec![(Rule::Undisclosed, Severity::Warning)]
    );
    assert_eq!(
        got(&labelled),
        vec![(Rule::WeakDisclosure, Severity::Error)]
    );
}

#[test]
fn ignore_globs_and_link_patterns() {
    let c = Config::parse(
        "affcheck.toml".as_ref(),
        "[site]\nignore_paths = [\"/tag/**\", \"drafts/*.html\"]\nignore_links = ['[?&]tag=internal-20']\n",
    )
    .unwrap();
    assert!(c.ignores_page("https://s.example/tag/tents/"));
    assert!(c.ignores_page("drafts/a.html"));
    assert!(c.ignores_page("./drafts/a.html"));
    assert!(
        !c.ignores_page("drafts/sub/a.html"),
        "`*` stays within a folder"
    );
    assert!(!c.ignores_page("https://s.example/blog/tag/x.html"));
    assert!(!c.ignores_page("https://s.example/"));

    let rules = Arc::new(Ruleset::defaults().unwrap());
    let html = format!(
        "<p><a href=\"{AMZ}\">Buy</a><a href=\"https://www.amazon.com/dp/B02?tag=internal-20\">Ours</a></p>"
    );
    let mut page = audit(
        "https://s.example/p.html",
        &html,
        &rules,
        AuditOptions::default(),
    );
    assert_eq!(page.links.len(), 2);
    c.apply_to(&mut page, false);
    assert_eq!(page.links.len(), 1);
    assert!(
        page.findings.iter().all(|f| *f.link_url == *AMZ),
        "{:#?}",
        page.findings
    );
    assert!(!page.findings.is_empty());

    let mut ignored = audit(
        "https://s.example/tag/p.html",
        &html,
        &rules,
        AuditOptions::default(),
    );
    c.apply_to(&mut ignored, false);
    assert!(ignored.findings.is_empty() && ignored.links.is_empty());
}

#[test]
fn inline_rules_extend_the_ruleset() {
    let c = Config::parse(
        "affcheck.toml".as_ref(),
        "[[rules.cloaking]]\nid = \"my-site\"\nsource = \"our plugin\"\nprefixes = [\"/deal/\"]\n",
    )
    .unwrap();
    let rules = Arc::new(c.load_rules(&[], true).unwrap());
    let page = audit(
        "https://s.example/p.html",
        "<p><a href=\"/deal/tent\">Tent</a></p>",
        &rules,
        AuditOptions::default(),
    );
    assert_eq!(page.links.len(), 1, "{page:#?}");
    assert_eq!(page.findings[0].rule, Rule::Undisclosed);
    let plain = audit(
        "https://s.example/p.html",
        "<p><a href=\"/deal/tent\">Tent</a></p>",
        &Arc::new(Ruleset::defaults().unwrap()),
        AuditOptions::default(),
    );
    assert!(plain.links.is_empty());
    let bad = Config::parse(
        "affcheck.toml".as_ref(),
        "[[rules.network]]\nid = \"n\"\nname = \"N\"\nsource = \"s\"\nhosts = [\"n.example\"]\npath = \"(\"\n",
    )
    .unwrap();
    let err = bad.load_rules(&[], true).unwrap_err().to_string();
    assert!(
        err.contains("affcheck.toml [rules]") && err.contains("`n`"),
        "{err}"
    );
}

#[test]
fn starter_config_parses_and_changes_nothing() {
    let path = config_file("starter", STARTER_TOML);
    let c = Config::load(&path).unwrap();
    assert!(c.format.is_none() && c.output.is_none() && c.fail_on.is_none());
    assert!(c.severity.is_empty() && c.rules.is_none() && c.site_disclosure().is_none());
    for rule in Rule::ALL {
        assert_eq!(c.severity_of(rule), Some(rule.severity()));
    }
    assert!(!c.audit_notices(false));
    cleanup(&path);
}

/// `affcheck check PAGE --config CONFIG`, run in a fresh folder.
fn check_with_config(config: &str, page: &str) -> common::Run {
    let dir = common::TempDir::new("config-site");
    let cfg = dir.write("affcheck.toml", config);
    let html = dir.write("page.html", page);
    common::run(&mut common::check([
        html.as_os_str(),
        "--config".as_ref(),
        cfg.as_os_str(),
        "--inventory".as_ref(),
        dir.path().join("inv.csv").as_os_str(),
        "--output".as_ref(),
        dir.path().join("report.csv").as_os_str(),
    ]))
}

const BANNER_PAGE: &str = "<p>Trail Notes may earn a commission on some purchases.</p><p><a href=\"https://www.amazon.com/dp/B01?tag=site-20\">Tent</a></p><p>As an Amazon Associate we earn from qualifying purchases.</p>";

#[test]
fn a_site_disclosure_that_is_no_disclosure_is_refused_with_its_position() {
    let run = check_with_config(
        "fail_on = \"error\"\n\n[site]\ndisclosure = \"Hello world\"\n",
        BANNER_PAGE,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("affcheck.toml:4:14"), "{}", run.stderr);
    assert!(run.stderr.contains("not a disclosure"), "{}", run.stderr);
    assert!(run.stderr.contains("Hello world"), "{}", run.stderr);
    let ok = check_with_config(
        "[site]\ndisclosure = \"We earn a commission when you buy through links on this site.\"\n",
        "<p><a href=\"https://www.amazon.com/dp/B01?tag=site-20\">Tent</a></p>",
    );
    assert_ne!(ok.code, 2, "{}", ok.stderr);
}

#[test]
fn site_names_from_the_config_make_the_named_banner_a_disclosure() {
    // Without the name the banner's earner is unknown and nothing ties it to this page.
    let without = check_with_config("", BANNER_PAGE);
    assert_eq!(without.code, 1, "{}", without.stderr);
    let with = check_with_config("[site]\nnames = [\"Trail Notes\"]\n", BANNER_PAGE);
    assert_eq!(with.code, 0, "{}", with.stderr);
}
