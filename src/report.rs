//! The *report* stage: writers for findings and the run summary.
//!
//! The CSV report is a contract read by other tools and scorers: a header row
//! (`page_url,rule,severity,link_url,network,link_text,line,disclosure_excerpt,message`), then one row
//! per finding, flushed page by page. Any cell that a spreadsheet could run as a formula is prefixed
//! with `'`.
//!
//! Every writer implements [`ReportWriter`] (`write_page` per page, `finish` with the [`Summary`]);
//! [`Format`] names the formats (CSV, JSON, JSON Lines, SARIF, JUnit, GitHub annotations,
//! Markdown, and a self-contained HTML report for people) and [`MultiReport`] feeds several of them at once. [`Locations`] tells the formats
//! that point into a repository (SARIF, GitHub, JUnit) which file a page comes from.

mod github;
mod html;
mod json;
mod junit;
mod locations;
mod markdown;
mod output;
mod sarif;

pub use github::{GithubReport, escape_data, escape_property};
pub use html::{CHART_BARS, HtmlReport, html_escape, script_safe_json};
pub use json::{JsonLinesReport, JsonReport};
pub use junit::{JunitReport, xml_escape, xml_escape_text};
pub use locations::{Locations, percent_encode_path};
pub use markdown::{MarkdownReport, WORST_PAGES, md_cell, md_code_cell};
pub use output::{Format, MultiReport, ReportWriter, UnknownFormat};
pub use sarif::{
    FINGERPRINT_KEY, RULES_HELP_URI, SARIF_SCHEMA, SarifReport, rule_help, rule_title,
    sarif_driver, sarif_level, stable_hash,
};

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::findings::{PageReport, Rule, Severity};

/// Columns of the CSV report, in order.
pub const CSV_HEADER: [&str; 9] = [
    "page_url",
    "rule",
    "severity",
    "link_url",
    "network",
    "link_text",
    "line",
    "disclosure_excerpt",
    "message",
];

/// Columns of the `--inventory` CSV, in order.
pub const INVENTORY_HEADER: [&str; 11] = [
    "page_url",
    "link_url",
    "network",
    "link_text",
    "line",
    "status",
    "rel_sponsored",
    "destination",
    "disclosure_strength",
    "disclosure_excerpt",
    "disclosure_rule",
];

/// Prefixes a cell that starts with `=`, `+`, `-`, `@`, tab or carriage return with `'`, so a
/// spreadsheet shows it as text instead of evaluating it.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Writes the findings CSV.
pub struct CsvReport<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvReport<W> {
    /// Starts a report: writes the header.
    pub fn new(out: W) -> io::Result<Self> {
        let mut out = csv::Writer::from_writer(out);
        out.write_record(CSV_HEADER)?;
        out.flush()?;
        Ok(CsvReport { out })
    }

    /// Continues a report that already has its header (a resumed crawl appending to its file).
    pub fn continuing(out: W) -> Self {
        CsvReport {
            out: csv::Writer::from_writer(out),
        }
    }

    /// Writes one page's findings and flushes, so a report is complete up to the last page done.
    pub fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        for f in &page.findings {
            let line = f.line.to_string();
            let row = [
                &f.page_url,
                f.rule.id(),
                f.severity.as_str(),
                &f.link_url,
                &f.network,
                &f.link_text,
                &line,
                &f.disclosure_excerpt,
                &f.message,
            ];
            self.out
                .write_record(row.iter().map(|c| spreadsheet_safe(c).into_owned()))?;
        }
        self.out.flush()
    }
}

/// Writes the `--inventory` CSV: every affiliate link with its status.
pub struct InventoryReport<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> InventoryReport<W> {
    /// Starts an inventory: writes the header.
    pub fn new(out: W) -> io::Result<Self> {
        let mut out = csv::Writer::from_writer(out);
        out.write_record(INVENTORY_HEADER)?;
        out.flush()?;
        Ok(InventoryReport { out })
    }

    /// Writes one page's affiliate links and flushes.
    pub fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        for l in &page.links {
            let line = l.line.to_string();
            let status = l.status.to_string();
            let strength = match l.disclosure_strength {
                Some(crate::rules::Strength::Explicit) => "explicit",
                Some(crate::rules::Strength::Label) => "label",
                None => "",
            };
            let row = [
                page.page_url.as_str(),
                &l.link_url,
                &l.network,
                &l.link_text,
                &line,
                &status,
                if l.rel_sponsored { "true" } else { "false" },
                l.destination.as_deref().unwrap_or(""),
                strength,
                &l.disclosure_excerpt,
                &l.disclosure_rule,
            ];
            self.out
                .write_record(row.iter().map(|c| spreadsheet_safe(c).into_owned()))?;
        }
        self.out.flush()
    }
}

/// `text` made safe to show to a person: every control character (C0, DEL, C1: escape sequences,
/// carriage returns, line feeds, tabs) and every bidirectional override is written as a visible
/// `\u{…}` escape. Page text (link URLs, link text, titles) reaches the terminal table, stderr
/// diagnostics and CI annotations; a page must not be able to recolour a terminal, forge a line or
/// inject a workflow command.
pub fn printable(text: &str) -> Cow<'_, str> {
    printable_keeping(text, &[])
}

/// [`printable`], keeping the characters of `keep` (line breaks, for formats that escape them).
pub fn printable_keeping<'t>(text: &'t str, keep: &[char]) -> Cow<'t, str> {
    let unsafe_char = |c: char| {
        !keep.contains(&c)
            && (c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Terminal styling: colours only on a terminal and without `NO_COLOR`.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Whether to emit ANSI colour codes.
    pub color: bool,
}

impl Style {
    /// Colours when `is_terminal` and `NO_COLOR` is unset or empty.
    pub fn detect(is_terminal: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: is_terminal && !no_color,
        }
    }

    fn paint<'a>(&self, code: &str, text: &'a str) -> Cow<'a, str> {
        if self.color {
            Cow::Owned(format!("\x1b[{code}m{text}\x1b[0m"))
        } else {
            Cow::Borrowed(text)
        }
    }
}

/// Writes findings as readable text for a person at a terminal: one heading per page with findings.
pub struct TableReport<W: Write> {
    out: W,
    style: Style,
}

impl<W: Write> TableReport<W> {
    /// A table writer.
    pub fn new(out: W, style: Style) -> Self {
        TableReport { out, style }
    }

    /// Writes one page's findings (nothing for a clean page).
    pub fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        if page.findings.is_empty() {
            return Ok(());
        }
        writeln!(
            self.out,
            "{}",
            self.style.paint("1", &printable(&page.page_url))
        )?;
        for f in &page.findings {
            let sev = match f.severity {
                Severity::Error => self.style.paint("31;1", "error"),
                Severity::Warning => self.style.paint("33;1", "warning"),
                Severity::Notice => self.style.paint("36", "notice"),
            };
            writeln!(
                self.out,
                "  {:>5}  {sev}[{}]  {}",
                format!("L{}", f.line),
                f.rule.id(),
                printable(&f.network)
            )?;
            if !f.link_url.is_empty() {
                writeln!(self.out, "         {}", printable(&f.link_url))?;
            }
            writeln!(self.out, "         {}", printable(&f.message))?;
        }
        writeln!(self.out)?;
        self.out.flush()
    }
}

/// A baseline's counts for the run summary ([`crate::baseline::Baseline::counts`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BaselineCounts {
    /// Findings of this run dropped because the baseline has them.
    pub baselined: usize,
    /// Baseline rows on pages audited in this run that no longer occur.
    pub fixed: usize,
    /// Baseline rows on pages this run did not audit (neither fixed nor seen).
    pub unvisited: usize,
}

/// Normalizes a URL for comparison as the scorer does: scheme and authority (host) lower-cased,
/// fragment dropped, path and query unchanged. Text without a `scheme://` (a file path) is kept
/// whole.
pub fn normalize_link(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    format!(
        "{}://{}{}",
        scheme.to_ascii_lowercase(),
        authority.to_lowercase(),
        tail
    )
}

/// Counts for the closing summary line.
///
/// Its JSON form (JSON, JSON Lines and SARIF reports) has `pages`, `skipped`, `failed`, `ignored`,
/// `affiliate_links`, `findings` (total), `by_rule` and `by_severity` (id → count, non-zero only),
/// `elapsed_seconds` and, with a baseline, `baseline` (`baselined`, `fixed`, `unvisited`).
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Pages audited.
    pub pages: usize,
    /// Documents skipped (not HTML).
    pub skipped: usize,
    /// Targets or pages that could not be read.
    pub failed: usize,
    /// Pages not reported because the config's `ignore_paths` matches them.
    pub ignored: usize,
    /// Affiliate links found.
    pub affiliate_links: usize,
    /// Findings by rule.
    pub by_rule: BTreeMap<Rule, usize>,
    /// Findings by severity.
    pub by_severity: BTreeMap<Severity, usize>,
    /// Wall time.
    pub elapsed: Duration,
    /// Baseline counts, when a baseline was given ([`crate::baseline::Baseline::counts`]).
    pub baseline: Option<BaselineCounts>,
    /// Inputs that were not audited, by kind ("not HTML", "redirects", "too large" …), skipped
    /// pages included. Shown by each command in its own words; not part of the JSON form.
    pub not_audited: BTreeMap<String, usize>,
}

impl Serialize for Summary {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let by_rule: BTreeMap<&str, usize> = self
            .by_rule
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(r, n)| (r.id(), *n))
            .collect();
        let by_severity: BTreeMap<&str, usize> = self
            .by_severity
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(s, n)| (s.as_str(), *n))
            .collect();
        let mut s = serializer.serialize_struct("Summary", 10)?;
        s.serialize_field("pages", &self.pages)?;
        s.serialize_field("skipped", &self.skipped)?;
        s.serialize_field("failed", &self.failed)?;
        s.serialize_field("ignored", &self.ignored)?;
        s.serialize_field("affiliate_links", &self.affiliate_links)?;
        s.serialize_field("findings", &self.by_rule.values().sum::<usize>())?;
        s.serialize_field("by_rule", &by_rule)?;
        s.serialize_field("by_severity", &by_severity)?;
        s.serialize_field("elapsed_seconds", &self.elapsed.as_secs_f64())?;
        if let Some(b) = &self.baseline {
            s.serialize_field("baseline", b)?;
        } else {
            s.skip_field("baseline")?;
        }
        s.end()
    }
}

impl Summary {
    /// Adds one audited page.
    pub fn add(&mut self, page: &PageReport) {
        self.pages += 1;
        self.affiliate_links += page.links.len();
        for f in &page.findings {
            self.count(f.rule, f.severity);
        }
    }

    /// Counts one finding (its severity after any config override).
    pub fn count(&mut self, rule: Rule, severity: Severity) {
        *self.by_rule.entry(rule).or_default() += 1;
        *self.by_severity.entry(severity).or_default() += 1;
    }

    /// Findings at `severity` or worse.
    pub fn at_least(&self, severity: Severity) -> usize {
        self.by_severity.range(severity..).map(|(_, n)| n).sum()
    }
}

/// " (rule n, rule n …)" for the summary lines; empty without findings.
pub fn rule_counts(by_rule: &BTreeMap<Rule, usize>) -> String {
    if by_rule.values().all(|n| *n == 0) {
        return String::new();
    }
    let parts: Vec<String> = by_rule.iter().map(|(r, n)| format!("{r} {n}")).collect();
    format!(" ({})", parts.join(", "))
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} page{}",
            self.pages,
            if self.pages == 1 { "" } else { "s" }
        )?;
        if self.skipped > 0 || self.failed > 0 {
            write!(f, " ({} skipped, {} failed)", self.skipped, self.failed)?;
        }
        if self.ignored > 0 {
            write!(f, ", {} ignored", self.ignored)?;
        }
        write!(
            f,
            ", {} affiliate link{}",
            self.affiliate_links,
            if self.affiliate_links == 1 { "" } else { "s" }
        )?;
        let total: usize = self.by_rule.values().sum();
        let new = if self.baseline.is_some() { " new" } else { "" };
        write!(
            f,
            ", {total}{new} finding{}",
            if total == 1 { "" } else { "s" }
        )?;
        write!(f, "{}", rule_counts(&self.by_rule))?;
        if let Some(b) = &self.baseline {
            write!(f, ", {} baselined, {} fixed", b.baselined, b.fixed)?;
        }
        write!(f, " in {:.2} s", self.elapsed.as_secs_f64())
    }
}

impl<W: Write> ReportWriter for CsvReport<W> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        CsvReport::write_page(self, page)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> ReportWriter for InventoryReport<W> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        InventoryReport::write_page(self, page)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> ReportWriter for TableReport<W> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        TableReport::write_page(self, page)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::findings::Finding;

    /// A page with one error finding whose cells need the spreadsheet guard.
    pub(crate) fn report() -> PageReport {
        PageReport {
            page_url: "https://s.example/a.html".into(),
            findings: vec![Finding {
                page_url: "https://s.example/a.html".into(),
                rule: Rule::Undisclosed,
                severity: Severity::Error,
                link_url: "https://www.amazon.com/dp/B1?tag=x-20&a=1".into(),
                network: "Amazon Associates".into(),
                link_text: "=HYPERLINK(\"http://evil\")".into(),
                line: 7,
                disclosure_excerpt: "-5% \"deal\", today".into(),
                disclosure_strength: None,
                disclosure_rule: Default::default(),
                message: "m".into(),
            }],
            links: Vec::new(),
        }
    }

    #[test]
    fn csv_has_header_and_quotes_and_formula_guard() {
        let mut buf = Vec::new();
        CsvReport::new(&mut buf)
            .unwrap()
            .write_page(&report())
            .unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            rows.headers().unwrap().iter().collect::<Vec<_>>(),
            CSV_HEADER
        );
        let row = rows.records().next().unwrap().unwrap();
        assert_eq!(&row[1], "undisclosed");
        assert_eq!(&row[3], "https://www.amazon.com/dp/B1?tag=x-20&a=1");
        assert_eq!(&row[5], "'=HYPERLINK(\"http://evil\")");
        assert_eq!(&row[6], "7");
        assert_eq!(&row[7], "'-5% \"deal\", today");
    }

    #[test]
    fn formula_guard_covers_all_leading_characters() {
        for c in ["=1", "+1", "-1", "@x", "\tx", "\rx"] {
            assert!(spreadsheet_safe(c).starts_with('\''), "{c:?}");
        }
        assert_eq!(spreadsheet_safe("plain"), "plain");
    }

    #[test]
    fn table_without_colour_when_not_a_terminal() {
        let mut buf = Vec::new();
        TableReport::new(&mut buf, Style::detect(false))
            .write_page(&report())
            .unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.contains("error[undisclosed]") && !text.contains('\x1b'),
            "{text}"
        );
    }

    #[test]
    fn summary_line() {
        let mut s = Summary::default();
        s.add(&report());
        s.failed = 1;
        assert_eq!(
            s.to_string(),
            "1 page (0 skipped, 1 failed), 0 affiliate links, 1 finding (undisclosed 1) in 0.00 s"
        );
        assert_eq!(s.at_least(Severity::Error), 1);
        assert_eq!(s.at_least(Severity::Warning), 1);
    }

    /// A finding whose page-controlled text carries a forged workflow command, a colour escape and
    /// a bidirectional override.
    fn hostile_report() -> PageReport {
        let mut r = report();
        let f = &mut r.findings[0];
        f.link_url = "https://shop.example/x\n::error::forged\x1b[31mred".into();
        f.message = "Link \u{202e}txt.exe\r\n::warning::also forged".into();
        r
    }

    #[test]
    fn printable_escapes_control_and_bidi_characters_only() {
        assert_eq!(printable("Café – ok"), "Café – ok");
        assert_eq!(
            printable("a\x1b[31mb\nc\u{202e}"),
            "a\\u{1b}[31mb\\u{a}c\\u{202e}"
        );
        assert_eq!(printable("\u{9b}x"), "\\u{9b}x");
    }

    #[test]
    fn the_table_never_prints_page_controlled_control_characters() {
        let mut buf = Vec::new();
        TableReport::new(&mut buf, Style::detect(false))
            .write_page(&hostile_report())
            .unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(!text.contains('\x1b') && !text.contains('\r') && !text.contains('\u{202e}'));
        assert!(
            text.lines().all(|l| !l.starts_with("::")),
            "no line starts a workflow command: {text}"
        );
        assert!(text.contains("\\u{1b}[31mred"), "{text}");
    }

    #[test]
    fn github_annotations_cannot_be_forged_by_page_text() {
        let report = hostile_report();
        let gh = GithubReport::new(Vec::new(), Locations::default());
        let line = gh.line(&report.findings[0]);
        assert!(line.starts_with("::error "), "{line}");
        assert!(!line.contains(['\n', '\r', '\x1b', '\u{202e}']), "{line}");
    }
}
