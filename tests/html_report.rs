//! `--format html` end to end: the report of the bundled example site agrees with its CSV report,
//! page text cannot break out of the data or the markup, the file loads nothing from outside, and
//! `check`, `crawl` and `warc` all write it.

mod common;
mod crawl_support;
mod html_support;

use std::collections::BTreeMap;
use std::process::Command;

use common::{BASE, Csv, TempDir, check, run, site_dir};
use html_support::{
    assert_self_contained, data_findings, figure, json_element, severity_figure, thousands,
};

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// HTML files below `dir`.
fn html_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                html_files(&p)
            } else {
                usize::from(p.extension().is_some_and(|e| e == "html" || e == "htm"))
            }
        })
        .sum()
}

/// `(page, rule, line, link_url)` of every CSV row, sorted.
fn csv_findings(csv: &Csv) -> Vec<(String, String, u64, String)> {
    let mut rows: Vec<_> = csv
        .rows
        .iter()
        .map(|r| {
            (
                r["page_url"].clone(),
                r["rule"].clone(),
                r["line"].parse().unwrap(),
                r["link_url"].clone(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn the_example_site_report_has_the_csv_findings_and_figures() {
    let dir = TempDir::new("html-site");
    let out = dir.path().join("out");
    let inventory = dir.path().join("inventory.csv");
    let run = run(check([site_dir()])
        .args(["--base-url", BASE, "--notices", "--output-dir"])
        .arg(&out)
        .args(["--format", "csv", "--format", "html", "--inventory"])
        .arg(&inventory));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let csv = Csv::read(&out.join("report.csv"));
    let html = read(&out.join("report.html"));
    assert!(csv.rows.len() > 40, "the example site has findings");

    // Headline figures.
    assert_eq!(figure(&html, "violations"), thousands(csv.rows.len()));
    for severity in ["error", "warning", "notice"] {
        assert_eq!(
            severity_figure(&html, severity),
            csv.rows_where("severity", severity).len(),
            "{severity}"
        );
    }
    assert_eq!(figure(&html, "pages"), html_files(&site_dir()).to_string());
    let links = Csv::read(&inventory);
    assert_eq!(figure(&html, "links"), thousands(links.rows.len()));
    let compliant = links.rows_where("status", "compliant").len();
    let tenths = compliant * 1000 / links.rows.len();
    assert_eq!(
        figure(&html, "compliant"),
        format!("{}.{}%", tenths / 10, tenths % 10)
    );

    // The data carries every finding, and every link of the inventory.
    let mut data = data_findings(&html);
    data.sort();
    assert_eq!(data, csv_findings(&csv));
    let pages = json_element(&html, "affcheck-pages");
    let data_links: usize = pages
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["l"].as_array().unwrap().len())
        .sum();
    assert_eq!(data_links, links.rows.len());

    // Charts: a bar per rule with its count; the reviews section; the worst page first.
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &csv.rows {
        *by_rule.entry(r["rule"].as_str()).or_default() += 1;
    }
    let chart = html
        .split("<svg class=\"chart\" id=\"by-rule\"")
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    for (rule, n) in &by_rule {
        assert!(
            chart.contains(&format!("<title>{rule}: {n} (")),
            "no bar for {rule} {n}: {chart}"
        );
    }
    assert_eq!(chart.matches("<g class=\"bar\">").count(), by_rule.len());
    assert!(html.contains(">/reviews/</text>"), "the reviews section");
    let mut per_page: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &csv.rows {
        *per_page.entry(r["page_url"].as_str()).or_default() += 1;
    }
    let most = per_page.values().max().unwrap();
    let worst = html.split("<table class=\"worst\">").nth(1).unwrap();
    let first_total = worst
        .split("</tr>")
        .nth(1)
        .unwrap()
        .rsplit("<td class=\"num\">")
        .next()
        .unwrap();
    assert!(
        first_total.starts_with(&format!("{most}<")),
        "{first_total}"
    );
    // Pages are links to themselves; the rule filter offers every rule found.
    assert!(html.contains(&format!("<a class=\"page-url\" href=\"{BASE}")));
    for rule in by_rule.keys() {
        assert!(html.contains(&format!("\">{rule}</option>")), "{rule}");
    }
    assert_self_contained(&html);
}

/// A page whose link text, link URL and file name are markup: it stays text everywhere.
#[test]
fn page_text_cannot_break_out_of_the_report() {
    let dir = TempDir::new("html-hostile");
    let hostile = "</script><img src=x onerror=alert(1)>";
    // The file name carries markup and U+2028 (kept in page addresses; the page stage turns it
    // into a space in link text).
    let page = dir.write(
        "<b onmouseover=alert(2)>\u{2028}.html",
        common::page(
            "utf-8",
            "<p><a href=\"https://www.amazon.com/dp/B0X?tag=x-20&amp;q=%3C/script%3E\">&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</a></p>\n\
             <p><a href=\"https://www.amazon.com/dp/B0Y?tag=x-20\">&lt;!--&lt;script&gt; \u{1b}[31m\u{202e}</a></p>",
        ),
    );
    let report = dir.path().join("report.html");
    let out = run(check([&page])
        .args(["--format", "html", "--output"])
        .arg(&report));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let html = read(&report);
    assert!(!html.contains("<img"), "no image tag");
    assert!(!html.contains("<b "), "no bold tag from the file name");
    assert!(!html.contains("<!--"), "no comment opened by the page");
    assert_eq!(
        html.matches("<script").count(),
        3,
        "two data elements, one script"
    );
    assert_eq!(html.matches("</script>").count(), 3);
    for c in ['\u{1b}', '\u{202e}'] {
        assert!(!html.contains(c), "{c:?} in the file");
    }
    // No JavaScript line terminator inside a script element.
    for script in html.split("<script").skip(1) {
        let script = script.split("</script>").next().unwrap();
        assert!(!script.contains(['\u{2028}', '\u{2029}']), "{script}");
    }
    // The data still says exactly what the page says, control characters made visible.
    let pages = json_element(&html, "affcheck-pages");
    assert!(
        pages[0]["u"]
            .as_str()
            .unwrap()
            .ends_with("<b onmouseover=alert(2)>\u{2028}.html")
    );
    let links = pages[0]["l"].as_array().unwrap();
    assert_eq!(links[0][1], hostile);
    assert_eq!(links[1][1], "<!--<script> \\u{1b}[31m\\u{202e}");
    assert!(
        html.contains("&lt;b onmouseover=alert(2)&gt;"),
        "the page name is escaped text in the worst-pages table"
    );
    assert_self_contained(&html);
}

#[test]
fn a_clean_run_writes_a_complete_report() {
    let dir = TempDir::new("html-clean");
    let page = dir.write(
        "clean.html",
        common::page("utf-8", "<p>No affiliate links here.</p>"),
    );
    let report = dir.path().join("report.html");
    let out = run(check([&page]).args(["--format", "html", "-o"]).arg(&report));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = read(&report);
    assert_eq!(figure(&html, "violations"), "0");
    assert_eq!(figure(&html, "pages"), "1");
    assert_eq!(figure(&html, "compliant"), "–");
    assert_eq!(json_element(&html, "affcheck-pages"), serde_json::json!([]));
    assert!(html.ends_with("</html>\n"));
}

#[test]
fn format_html_on_standard_output() {
    let out =
        run(check([site_dir().join("undisclosed-no-disclosure.html")]).args(["--format", "html"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.starts_with("<!DOCTYPE html>"), "{}", out.stdout);
    assert!(out.stdout.ends_with("</html>\n"));
}

/// `crawl --format html` on a loopback site, and `warc --format html` on the archive it wrote.
#[test]
fn crawl_and_warc_write_the_html_report() {
    use crawl_support::{Site, args, crawl, undisclosed_body};
    let site = Site::start();
    site.page("/", &undisclosed_body(&["/reviews/a", "/reviews/b"]));
    site.page("/reviews/a", &undisclosed_body(&[]));
    site.page("/reviews/b", "<p>Nothing to disclose.</p>");
    let dir = crawl_support::TempDir::new("html-crawl");
    let out = dir.path("out");
    let warc = dir.path("site.warc.gz");
    let run = crawl(
        &dir,
        &args(&[
            &site.url("/"),
            "-q",
            "--output-dir",
            &out.display().to_string(),
            "--format",
            "csv",
            "--format",
            "html",
            "--warc",
            &warc.display().to_string(),
        ]),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let csv = Csv::read(&out.join("report.csv"));
    let html = read(&out.join("report.html"));
    // Two pages with an undisclosed Amazon link: undisclosed and amazon-statement-missing each.
    assert_eq!(csv.rows.len(), 4, "{:?}", csv.rows);
    assert_eq!(figure(&html, "pages"), "3");
    assert_eq!(figure(&html, "violations"), "4");
    let mut data = data_findings(&html);
    data.sort();
    assert_eq!(data, csv_findings(&csv));
    assert!(html.contains(">/reviews/</text>"), "section chart");
    assert_self_contained(&html);

    let warc_html = dir.path("warc.html");
    let warc_run = Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .arg("warc")
        .arg(&warc)
        .args(["--format", "html", "--output"])
        .arg(&warc_html)
        .current_dir(dir.root())
        .output()
        .unwrap();
    assert_eq!(
        warc_run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&warc_run.stderr)
    );
    let from_warc = read(&warc_html);
    assert_eq!(figure(&from_warc, "pages"), "3");
    assert_eq!(figure(&from_warc, "violations"), "4");
    let mut again = data_findings(&from_warc);
    again.sort();
    assert_eq!(again, data);
}
