//! Baselines over real audits: a CSV report written by the library is read back as a baseline and
//! the next run reports only what is new.

use std::path::{Path, PathBuf};

use affcheck::Auditor;
use affcheck::baseline::{Baseline, BaselineCounts};
use affcheck::document::Document;
use affcheck::findings::{AuditOptions, PageReport};
use affcheck::report::{CsvReport, ReportWriter, Summary};
use affcheck::rules::Ruleset;
use url::Url;

const AMZ: &str = "https://www.amazon.com/dp/B01?tag=site-20";
const CJ: &str = "https://www.anrdoezrs.net/click-100-200";

fn audit(display: &str, html: &str) -> PageReport {
    let rules = Ruleset::defaults().unwrap();
    let doc = Document {
        display: display.to_string(),
        base: Some(Url::parse(display).unwrap()),
        bytes: html.as_bytes().to_vec(),
        content_type: None,
    };
    Auditor::new(rules, AuditOptions::default())
        .audit(&doc)
        .unwrap()
}

fn site(tent_page: &str) -> Vec<PageReport> {
    vec![
        audit("https://site.example/tents.html", tent_page),
        audit(
            "https://site.example/stoves.html",
            &format!("<p><a href=\"{AMZ}&stove=1\">Stove</a></p>"),
        ),
    ]
}

fn tents(extra: &str) -> String {
    format!("<h1>Tents</h1>\n<p><a href=\"{AMZ}\">Tent</a></p>\n{extra}")
}

/// Writes the pages as the CSV report and returns its path.
fn write_baseline(pages: &[PageReport], name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "affcheck-baseline-{}-{name}.csv",
        std::process::id()
    ));
    let mut w = CsvReport::new(std::fs::File::create(&path).unwrap()).unwrap();
    for p in pages {
        w.write_page(p).unwrap();
    }
    ReportWriter::finish(&mut w, &Summary::default()).unwrap();
    path
}

/// Filters a run through the baseline: (findings left, counts).
fn run(baseline: &Path, pages: Vec<PageReport>) -> (Vec<PageReport>, BaselineCounts) {
    let mut b = Baseline::load(baseline).unwrap();
    let mut out = Vec::new();
    for mut p in pages {
        b.filter(&mut p);
        out.push(p);
    }
    (out, b.counts())
}

fn new_findings(pages: &[PageReport]) -> usize {
    pages.iter().map(|p| p.findings.len()).sum()
}

#[test]
fn same_findings_are_all_baselined() {
    let first = site(&tents(""));
    let total = new_findings(&first);
    assert!(total >= 3, "{first:#?}");
    let path = write_baseline(&first, "same");
    let (after, counts) = run(&path, site(&tents("")));
    assert_eq!(new_findings(&after), 0);
    assert_eq!(
        counts,
        BaselineCounts {
            baselined: total,
            fixed: 0,
            unvisited: 0
        }
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn one_extra_undisclosed_link_is_exactly_one_new_finding() {
    let path = write_baseline(&site(&tents("")), "extra");
    // A new link to another network, and a second copy of the baselined Amazon link: both new.
    let (after, counts) = run(
        &path,
        site(&tents(&format!("<p><a href=\"{CJ}\">Other</a></p>"))),
    );
    let new: Vec<_> = after.iter().flat_map(|p| &p.findings).collect();
    assert_eq!(new.len(), 1, "{new:#?}");
    assert_eq!(&*new[0].link_url, CJ);
    assert_eq!(counts.fixed, 0);

    let (after, _) = run(
        &path,
        site(&tents(&format!("<p><a href=\"{AMZ}\">Tent again</a></p>"))),
    );
    let new: Vec<_> = after.iter().flat_map(|p| &p.findings).collect();
    assert_eq!(
        new.len(),
        1,
        "the second copy of a baselined link is new: {new:#?}"
    );
    assert_eq!(&*new[0].link_text, "Tent again");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn moved_lines_and_new_text_stay_baselined() {
    let path = write_baseline(&site(&tents("")), "moved");
    let moved = format!(
        "<h1>Tents</h1>\n\n\n<p>A longer intro.</p>\n<p><a href=\"{}\">Our favourite tent</a></p>\n",
        AMZ.replace("https://www.amazon.com", "HTTPS://WWW.AMAZON.COM")
    );
    let pages = site(&moved);
    assert_ne!(pages[0].findings[0].line, 2, "the link did move");
    let (after, counts) = run(&path, pages);
    assert_eq!(new_findings(&after), 0, "{after:#?}");
    assert_eq!(counts.fixed, 0);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn fixed_findings_are_counted_on_audited_pages_only() {
    let path = write_baseline(&site(&tents("")), "fixed");
    let fixed_tents = format!(
        "<p>As an Amazon Associate I earn from qualifying purchases.</p>{}",
        tents("")
    );
    let mut pages = site(&fixed_tents);
    let before_fix = site(&tents(""))[0].findings.len();
    assert!(pages[0].findings.is_empty(), "{:#?}", pages[0].findings);
    // Only the tents page is audited this time.
    pages.truncate(1);
    let (after, counts) = run(&path, pages);
    assert_eq!(new_findings(&after), 0);
    assert_eq!(counts.fixed, before_fix);
    assert!(counts.unvisited > 0);
    let b = Baseline::load(&path).unwrap();
    assert_eq!(b.len(), before_fix + counts.unvisited);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn malformed_baselines_name_file_and_line() {
    let path =
        std::env::temp_dir().join(format!("affcheck-bad-baseline-{}.csv", std::process::id()));
    std::fs::write(
        &path,
        "page_url,rule,severity,link_url,extra\na,undisclosed,error,x,1\nb,undisclosed,error\n",
    )
    .unwrap();
    let err = Baseline::load(&path).unwrap_err().to_string();
    assert!(err.contains(&format!("{}:3:", path.display())), "{err}");
    std::fs::write(&path, "url,rule\n").unwrap();
    let err = Baseline::load(&path).unwrap_err().to_string();
    assert!(err.contains(":1: no `page_url` column"), "{err}");
    std::fs::remove_file(&path).unwrap();
    let err = Baseline::load(&path).unwrap_err().to_string();
    assert!(err.contains("cannot read the baseline"), "{err}");
}
