//! JUnit XML: a test suite named `affcheck` with one test case per page.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Locations, ReportWriter, Summary};
use crate::findings::{PageReport, Severity};

/// Escapes text for XML 1.0 character data and attribute values: `&`, `<`, `>`, `"` and `'` as
/// entities, tab, line feed and carriage return as character references (so attribute values keep
/// them), and characters XML 1.0 does not allow (other control characters, U+FFFE, U+FFFF)
/// dropped.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// Escapes text for XML 1.0 element content: as [`xml_escape`], but tabs and line feeds are kept as
/// they are (readable in the file; only attribute values need them as references).
pub fn xml_escape_text(text: &str) -> String {
    xml_escape(text)
        .replace("&#10;", "\n")
        .replace("&#9;", "\t")
}

/// Whether XML 1.0 allows `c` in a document (`Char` production; Rust `char`s are never
/// surrogates).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Writes JUnit XML: `<testsuites>` with one `<testsuite name="affcheck">`, one
/// `<testcase classname="affcheck" name=PAGE>` per audited page (with a `file` attribute when the
/// page has a repository file). Each error-severity finding is a `<failure type=RULE
/// message=…>`; warnings and notices are listed in the test case's `<system-out>`. Skipped
/// documents are `<skipped>` test cases and unreadable targets `<error>` test cases.
///
/// The suite's counts come first in the file, so test cases are kept in memory (a few hundred
/// bytes per page) and written by `finish`.
pub struct JunitReport<W: Write> {
    out: W,
    locations: Locations,
    cases: String,
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl<W: Write> JunitReport<W> {
    /// A JUnit writer.
    pub fn new(out: W, locations: Locations) -> Self {
        JunitReport {
            out,
            locations,
            cases: String::new(),
            tests: 0,
            failures: 0,
            errors: 0,
            skipped: 0,
        }
    }

    fn open_case(&mut self, name: &str) {
        self.tests += 1;
        let _ = write!(
            self.cases,
            "    <testcase classname=\"affcheck\" name=\"{}\"",
            xml_escape(name)
        );
        if let Some(file) = self.locations.repo_path(name) {
            let _ = write!(self.cases, " file=\"{}\"", xml_escape(&file));
        }
    }
}

impl<W: Write> ReportWriter for JunitReport<W> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        self.open_case(&page.page_url);
        if page.findings.is_empty() {
            self.cases.push_str("/>\n");
            return Ok(());
        }
        self.cases.push_str(">\n");
        let mut out_lines = String::new();
        let mut failed = false;
        for f in &page.findings {
            let location = format!("{}:{}", f.page_url, f.line);
            let detail = if f.link_url.is_empty() {
                format!("{location}: {} ({})", f.rule, f.network)
            } else {
                format!("{location}: {} ({}) {}", f.rule, f.network, f.link_url)
            };
            if f.severity == Severity::Error {
                failed = true;
                let _ = writeln!(
                    self.cases,
                    "      <failure type=\"{}\" message=\"{}\">{}\n{}</failure>",
                    xml_escape(f.rule.id()),
                    xml_escape(&f.message),
                    xml_escape_text(&detail),
                    xml_escape_text(&f.message)
                );
            } else {
                let _ = writeln!(out_lines, "{}: {detail}: {}", f.severity, f.message);
            }
        }
        if failed {
            self.failures += 1;
        }
        if !out_lines.is_empty() {
            let _ = writeln!(
                self.cases,
                "      <system-out>{}</system-out>",
                xml_escape_text(&out_lines)
            );
        }
        self.cases.push_str("    </testcase>\n");
        Ok(())
    }

    fn write_skipped(&mut self, page: &str, reason: &str) -> io::Result<()> {
        self.skipped += 1;
        self.open_case(page);
        let _ = writeln!(
            self.cases,
            ">\n      <skipped message=\"{}\"/>\n    </testcase>",
            xml_escape(reason)
        );
        Ok(())
    }

    fn write_failed(&mut self, target: &str, error: &str) -> io::Result<()> {
        self.errors += 1;
        self.open_case(target);
        let _ = writeln!(
            self.cases,
            ">\n      <error type=\"unreadable\" message=\"{}\"/>\n    </testcase>",
            xml_escape(error)
        );
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let time = format!("{:.3}", summary.elapsed.as_secs_f64());
        write!(
            self.out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <testsuites name=\"affcheck\" tests=\"{t}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{s}\" time=\"{time}\">\n  \
             <testsuite name=\"affcheck\" tests=\"{t}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{s}\" time=\"{time}\">\n",
            t = self.tests,
            f = self.failures,
            e = self.errors,
            s = self.skipped,
        )?;
        self.out.write_all(self.cases.as_bytes())?;
        self.cases = String::new();
        self.out.write_all(b"  </testsuite>\n</testsuites>\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::report;

    #[test]
    fn escapes_and_strips() {
        assert_eq!(
            xml_escape("a<b>&\"c'\u{1}\u{b}\u{FFFE}\n\té"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;&#9;é"
        );
        assert_eq!(xml_escape("\u{1F600}"), "\u{1F600}");
        assert_eq!(xml_escape_text("a\n\tb\r&"), "a\n\tb&#13;&amp;");
    }

    #[test]
    fn counts_and_structure() {
        let mut buf = Vec::new();
        let mut w = JunitReport::new(&mut buf, Locations::default());
        let mut page = report();
        page.findings[0].message = "bad \u{0} <tag>".into();
        let mut warn = page.findings[0].clone();
        warn.severity = Severity::Warning;
        page.findings.push(warn);
        w.write_page(&page).unwrap();
        w.write_page(&PageReport {
            page_url: "clean.html".into(),
            findings: Vec::new(),
            links: Vec::new(),
        })
        .unwrap();
        w.write_skipped("x.pdf", "not HTML").unwrap();
        w.write_failed("gone.html", "not found").unwrap();
        w.finish(&Summary::default()).unwrap();
        let xml = String::from_utf8(buf).unwrap();
        assert!(
            xml.contains("tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("message=\"bad  &lt;tag&gt;\""), "{xml}");
        assert!(xml.contains("<system-out>warning: "), "{xml}");
        assert!(xml.contains(
            "<testcase classname=\"affcheck\" name=\"clean.html\" file=\"clean.html\"/>"
        ));
    }
}
