//! The CI report formats over real audits: pages are audited with the `Auditor` and
//! written with the library writers; SARIF is validated against the vendored OASIS schema, JUnit
//! parsed as XML, GitHub commands and Markdown checked line by line, JSON / JSON Lines compared
//! field by field with the CSV report.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};

use affcheck::Auditor;
use affcheck::document::Document;
use affcheck::findings::{AuditOptions, PageReport, Rule, Severity};
use affcheck::report::{
    CSV_HEADER, CsvReport, FINGERPRINT_KEY, Format, GithubReport, JsonLinesReport, JsonReport,
    JunitReport, Locations, MarkdownReport, MultiReport, ReportWriter, SarifReport, Summary,
    spreadsheet_safe,
};
use affcheck::rules::Ruleset;
use serde_json::Value;
use url::Url;

const AMZ: &str = "https://www.amazon.com/dp/B01?tag=site-20";

/// Audits `html` as the page `display` (a file path or a URL), with notices on.
fn audit(display: &str, html: &str) -> PageReport {
    let rules = Ruleset::defaults().unwrap();
    let base = if display.starts_with("https://") {
        Url::parse(display).unwrap()
    } else {
        Url::from_file_path(std::path::absolute(display).unwrap()).unwrap()
    };
    let doc = Document {
        display: display.to_string(),
        base: Some(base),
        bytes: html.as_bytes().to_vec(),
        content_type: None,
    };
    let options = AuditOptions {
        notices: true,
        ..Default::default()
    };
    Auditor::new(rules, options).audit(&doc).unwrap()
}

/// A small site: errors, a warning, notices, a clean page, awkward characters and a URL page.
fn pages() -> Vec<PageReport> {
    vec![
        audit(
            "site/best tents.html",
            &format!(
                "<html><body>\n<h1>Best tents</h1>\n<p><a href=\"{AMZ}\">Tent | 50% off, \"now\" &lt;b&gt;</a></p>\n\
                 <p><a href=\"https://www.amazon.com/dp/B02?tag=site-20\">Stove</a></p>\n\
                 <p><a href=\"{AMZ}\">Tent again</a></p>\n</body></html>\n"
            ),
        ),
        audit(
            "site/after.html",
            &format!(
                "<p><a href=\"{AMZ}#reviews\">Buy</a></p>\n<p>As an Amazon Associate I earn from qualifying purchases.</p>\n"
            ),
        ),
        audit(
            "site/clean.html",
            "<p>We earn a commission from links on this page.</p>\n<p><a href=\"https://example.org/\">plain</a></p>\n",
        ),
        audit(
            "https://example.test/deals/index.html",
            &format!(
                "<p>We earn a commission if you buy through links on this page.</p>\n<a href=\"{AMZ}\" rel=\"sponsored\">Deal</a>\n"
            ),
        ),
        audit(
            "site/label.html",
            &format!(
                "<p>This post contains affiliate links.</p>\n<p><a href=\"{AMZ}\">Buy</a></p>\n"
            ),
        ),
    ]
}

fn summary(pages: &[PageReport]) -> Summary {
    let mut s = Summary::default();
    for p in pages {
        s.add(p);
    }
    s
}

/// Runs a writer over the pages and returns what it wrote.
fn render<W: ReportWriter>(make: impl FnOnce(SharedBuf) -> W, pages: &[PageReport]) -> String {
    let buf = SharedBuf::default();
    let mut w = make(buf.clone());
    for p in pages {
        w.write_page(p).unwrap();
    }
    w.finish(&summary(pages)).unwrap();
    drop(w);
    buf.text()
}

/// A cloneable in-memory sink (writers own their output).
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn all_findings(pages: &[PageReport]) -> Vec<&affcheck::findings::Finding> {
    pages.iter().flat_map(|p| &p.findings).collect()
}

#[test]
fn the_test_site_has_every_severity() {
    let pages = pages();
    let severities: HashSet<Severity> = all_findings(&pages).iter().map(|f| f.severity).collect();
    assert_eq!(severities.len(), 3, "{:#?}", all_findings(&pages));
    assert!(pages[2].findings.is_empty(), "{:?}", pages[2].findings);
}

fn sarif_schema() -> jsonschema::Validator {
    let text = include_str!("schemas/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(text).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the vendored schema compiles offline")
}

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    let pages = pages();
    let text = render(
        |b| SarifReport::new(b, Locations::new(None)).unwrap(),
        &pages,
    );
    let log: Value = serde_json::from_str(&text).unwrap();
    let validator = sarif_schema();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // A log missing a required property must fail, or the check above proves nothing.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!validator.is_valid(&broken));

    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "affcheck");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["informationUri"], env!("CARGO_PKG_REPOSITORY"));
    let rules = driver["rules"].as_array().unwrap();
    // The built-in rules and, where required statements stand, those of the rules data.
    let all = Rule::all();
    assert_eq!(rules.len(), all.len());
    assert_eq!(rules[5]["id"], "amazon-statement-missing");
    assert_eq!(rules[5]["defaultConfiguration"]["level"], "warning");
    for (i, rule) in all.iter().enumerate() {
        assert_eq!(rules[i]["id"], rule.id());
        assert_eq!(rules[i]["fullDescription"]["text"], rule.description());
        assert!(!rules[i]["help"]["text"].as_str().unwrap().is_empty());
        assert!(
            rules[i]["helpUri"]
                .as_str()
                .unwrap()
                .starts_with(env!("CARGO_PKG_REPOSITORY"))
        );
        let level = match rule.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "note",
        };
        assert_eq!(rules[i]["defaultConfiguration"]["level"], level);
    }

    let results = run["results"].as_array().unwrap();
    let findings = all_findings(&pages);
    assert_eq!(results.len(), findings.len());
    let mut fingerprints = HashSet::new();
    for (r, f) in results.iter().zip(&findings) {
        assert_eq!(r["ruleId"], f.rule.id());
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(r["message"]["text"].as_str().unwrap().contains(&f.message));
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        if f.page_url.starts_with("https://") {
            assert_eq!(uri, &*f.page_url);
        } else {
            assert!(!uri.contains(' ') && !uri.starts_with('/'), "{uri}");
            assert_eq!(uri.replace("%20", " "), &*f.page_url);
        }
        assert_eq!(loc["region"]["startLine"], f.line);
        let fp = r["partialFingerprints"][FINGERPRINT_KEY].as_str().unwrap();
        assert!(
            fingerprints.insert(fp.to_string()),
            "duplicate fingerprint {fp}"
        );
    }
    assert_eq!(
        results
            .iter()
            .find(|r| r["ruleId"] == "undisclosed")
            .unwrap()["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "site/best%20tents.html"
    );
    assert_eq!(run["properties"]["summary"]["pages"], pages.len());
}

#[test]
fn sarif_maps_base_url_pages_to_their_files() {
    let cwd = std::env::current_dir().unwrap();
    let base = Url::parse("https://example.test/").unwrap();
    let locations = Locations::new(Some(cwd.clone())).with_base(&base, cwd.join("public"));
    let page = audit(
        "https://example.test/deals/index.html",
        &format!("<p><a href=\"{AMZ}\">Deal</a></p>"),
    );
    let text = render(|b| SarifReport::new(b, locations).unwrap(), &[page]);
    let log: Value = serde_json::from_str(&text).unwrap();
    assert!(sarif_schema().is_valid(&log));
    assert_eq!(
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "public/deals/index.html"
    );
}

#[test]
fn sarif_fingerprints_survive_moved_lines() {
    let html = format!("<p><a href=\"{AMZ}\">Buy</a></p>");
    let before = audit("site/p.html", &html);
    let after = audit("site/p.html", &format!("\n\n\n<p>New intro.</p>\n{html}"));
    let fp = |page: PageReport| {
        let text = render(
            |b| SarifReport::new(b, Locations::new(None)).unwrap(),
            &[page],
        );
        let log: Value = serde_json::from_str(&text).unwrap();
        let r = &log["runs"][0]["results"][0];
        (
            r["partialFingerprints"][FINGERPRINT_KEY].clone(),
            r["locations"][0]["physicalLocation"]["region"]["startLine"].clone(),
        )
    };
    let (fp1, line1) = fp(before);
    let (fp2, line2) = fp(after);
    assert_ne!(line1, line2);
    assert_eq!(fp1, fp2);
}

/// Attributes of every element named `name`, unescaped.
fn xml_elements(xml: &str, name: &str) -> Vec<BTreeMap<String, String>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == name => {
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            a.key.as_ref().to_string(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
                out.push(attrs);
            }
            _ => {}
        }
    }
    out
}

#[test]
fn junit_has_a_case_per_page_and_a_failure_per_error() {
    let pages = pages();
    let xml = render(|b| JunitReport::new(b, Locations::new(None)), &pages);
    let suites = xml_elements(&xml, "testsuite");
    assert_eq!(suites.len(), 1);
    assert_eq!(suites[0]["name"], "affcheck");
    assert_eq!(suites[0]["tests"], pages.len().to_string());
    let failing_pages = pages
        .iter()
        .filter(|p| p.findings.iter().any(|f| f.severity == Severity::Error))
        .count();
    assert_eq!(suites[0]["failures"], failing_pages.to_string());
    let cases = xml_elements(&xml, "testcase");
    assert_eq!(cases.len(), pages.len());
    for (case, page) in cases.iter().zip(&pages) {
        assert_eq!(case["classname"], "affcheck");
        assert_eq!(case["name"], page.page_url);
    }
    assert_eq!(cases[0]["file"], "site/best tents.html");
    assert!(!cases[3].contains_key("file"));
    let failures = xml_elements(&xml, "failure");
    let errors: Vec<_> = all_findings(&pages)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert_eq!(failures.len(), errors.len());
    for (failure, f) in failures.iter().zip(&errors) {
        assert_eq!(failure["type"], f.rule.id());
        assert_eq!(failure["message"], f.message);
    }
    let lower = all_findings(&pages)
        .into_iter()
        .filter(|f| f.severity < Severity::Error)
        .count();
    assert_eq!(
        xml.matches("warning: ").count() + xml.matches("notice: ").count(),
        lower
    );
    let pages_with_lower = pages
        .iter()
        .filter(|p| p.findings.iter().any(|f| f.severity < Severity::Error))
        .count();
    assert_eq!(xml_elements(&xml, "system-out").len(), pages_with_lower);
}

#[test]
fn github_commands_and_escaping() {
    let pages = pages();
    let text = render(|b| GithubReport::new(b, Locations::new(None)), &pages);
    let lines: Vec<&str> = text.lines().collect();
    let findings = all_findings(&pages);
    assert_eq!(lines.len(), findings.len());
    for (line, f) in lines.iter().zip(&findings) {
        let command = match f.severity {
            Severity::Error => "::error ",
            Severity::Warning => "::warning ",
            Severity::Notice => "::notice ",
        };
        assert!(line.starts_with(command), "{line}");
        let (props, message) = line[command.len()..].split_once("::").unwrap();
        assert!(!message.contains('\n') && !message.contains('\r'));
        assert!(
            props.ends_with(&format!("title={}", f.rule.id())),
            "{props}"
        );
        if f.page_url.starts_with("https://") {
            assert!(!props.contains("file="), "{line}");
            assert!(message.starts_with(&*f.page_url), "{line}");
        } else {
            assert!(
                props.starts_with(&format!(
                    "file={},line={},",
                    f.page_url.replace(':', "%3A").replace(',', "%2C"),
                    f.line
                )),
                "{line}"
            );
        }
        assert!(message.contains(&f.message.replace('%', "%25")), "{line}");
    }
    // A message with the characters GitHub reserves.
    let mut page = pages[0].clone();
    page.findings.truncate(1);
    page.findings[0].message = "50% off\r\nnext, line: x".into();
    page.page_url = "site/a,b:c.html".into();
    page.findings[0].page_url = page.page_url.as_str().into();
    let text = render(|b| GithubReport::new(b, Locations::new(None)), &[page]);
    assert!(
        text.starts_with("::error file=site/a%2Cb%3Ac.html,line=3,title=undisclosed::50%25 off%0D%0Anext, line: x Link: "),
        "{text}"
    );
}

#[test]
fn markdown_summary_tables() {
    let mut pages = pages();
    pages[0].page_url = "site/a|b.html".into();
    let md = render(MarkdownReport::new, &pages);
    assert!(md.starts_with("## affcheck report\n"), "{md}");
    let s = summary(&pages);
    for (rule, n) in &s.by_rule {
        let row = format!("| `{}` | {} | {n} |", rule.id(), rule.severity());
        assert!(md.contains(&row), "missing {row}\n{md}");
    }
    assert!(md.contains("| Amazon Associates |"), "{md}");
    assert!(md.contains("| `site/a\\|b.html` |"), "{md}");
    let worst = md.split("### Pages with the most findings").nth(1).unwrap();
    let rows: Vec<&str> = worst.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(
        rows.len(),
        pages.iter().filter(|p| !p.findings.is_empty()).count()
    );
    assert!(rows[0].starts_with("| `site/a\\|b.html` |"), "{worst}");
    // Every table row has the header's number of cells (no unescaped `|`).
    for table in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let cells = |l: &str| l.replace("\\|", "").matches('|').count();
        let header = cells(table.lines().next().unwrap());
        assert!(table.lines().all(|l| cells(l) == header), "{table}");
    }
}

#[test]
fn json_and_jsonl_carry_the_csv_fields() {
    let pages = pages();
    let csv_text = render(|b| CsvReport::new(b).unwrap(), &pages);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();

    let json: Value =
        serde_json::from_str(&render(|b| JsonReport::new(b).unwrap(), &pages)).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), rows.len());

    let jsonl_text = render(JsonLinesReport::new, &pages);
    let lines: Vec<Value> = jsonl_text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), rows.len() + 1);
    let (summary_line, finding_lines) = lines.split_last().unwrap();
    assert_eq!(summary_line["type"], "summary");

    for ((row, j), l) in rows.iter().zip(findings).zip(finding_lines) {
        assert_eq!(l["type"], "finding");
        for (i, column) in CSV_HEADER.iter().enumerate() {
            let as_text = |v: &Value| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(spreadsheet_safe(&as_text(&j[column])), &row[i], "{column}");
            assert_eq!(j[column], l[column], "{column}");
        }
        // Besides the CSV columns: the strength and wording rule of the disclosure in the excerpt.
        for key in j.as_object().unwrap().keys() {
            assert!(
                CSV_HEADER.contains(&key.as_str())
                    || key == "disclosure_strength"
                    || key == "disclosure_rule",
                "unexpected field {key}"
            );
        }
        assert_eq!(
            j.get("disclosure_strength").is_some(),
            !j["disclosure_excerpt"].as_str().unwrap().is_empty()
        );
        if j["rule"] == "weak-disclosure" {
            assert_eq!(j["disclosure_strength"], "label", "{j}");
            assert!(j["disclosure_rule"].as_str().unwrap().contains('/'), "{j}");
        }
        assert!(j["line"].is_u64());
    }
    let s = summary(&pages);
    for doc in [&json["summary"], summary_line] {
        assert_eq!(doc["pages"], s.pages);
        assert_eq!(doc["findings"], rows.len());
        assert_eq!(doc["affiliate_links"], s.affiliate_links);
        assert_eq!(doc["by_severity"]["error"], s.by_severity[&Severity::Error]);
    }
}

#[test]
fn output_dir_gets_one_file_per_format() {
    let dir = std::env::temp_dir().join(format!("affcheck-formats-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut multi = MultiReport::new();
    let files = multi
        .add_output_dir(&dir.join("out"), &Format::ALL, &Locations::new(None))
        .unwrap();
    assert_eq!(files.len(), Format::ALL.len());
    let pages = pages();
    for p in &pages {
        multi.write_page(p).unwrap();
    }
    multi.finish(&summary(&pages)).unwrap();
    drop(multi);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "report.csv",
            "report.json",
            "report.jsonl",
            "report.sarif",
            "report.junit.xml",
            "report.github.txt",
            "report.md",
            "report.html"
        ]
    );
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(!text.is_empty(), "{}", f.display());
    }
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&files[3]).unwrap()).unwrap();
    assert!(sarif_schema().is_valid(&sarif));
    std::fs::remove_dir_all(&dir).unwrap();
}
