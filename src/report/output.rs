//! The writer interface every report format implements, the list of formats, and [`MultiReport`],
//! which fans pages out to several writers at once.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use super::{
    CsvReport, GithubReport, HtmlReport, JsonLinesReport, JsonReport, JunitReport, Locations,
    MarkdownReport, SarifReport, Summary,
};
use crate::findings::PageReport;

/// A report writer fed page by page: `write_page` for each audited page in order, the optional
/// `write_skipped` / `write_failed` for pages that were not audited, then `finish` once.
///
/// Formats that can stream (CSV, JSON, JSON Lines, SARIF, GitHub) write and flush each page as it
/// comes; JUnit and Markdown need the totals first and write everything in `finish`; HTML writes
/// each page's data as it comes and the visible document, with the totals, in `finish`.
pub trait ReportWriter {
    /// Writes one audited page's findings (after any config and baseline filtering).
    fn write_page(&mut self, page: &PageReport) -> io::Result<()>;

    /// Records a document that was read but not audited (`reason`: why, such as "not HTML").
    /// Most formats ignore it.
    fn write_skipped(&mut self, _page: &str, _reason: &str) -> io::Result<()> {
        Ok(())
    }

    /// Records a target or page that could not be read. Most formats ignore it.
    fn write_failed(&mut self, _target: &str, _error: &str) -> io::Result<()> {
        Ok(())
    }

    /// Ends the report with the run summary and flushes. Call once, after the last page.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

impl<T: ReportWriter + ?Sized> ReportWriter for Box<T> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        (**self).write_page(page)
    }
    fn write_skipped(&mut self, page: &str, reason: &str) -> io::Result<()> {
        (**self).write_skipped(page, reason)
    }
    fn write_failed(&mut self, target: &str, error: &str) -> io::Result<()> {
        (**self).write_failed(target, error)
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        (**self).finish(summary)
    }
}

/// A report format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The CSV contract: one row per finding.
    Csv,
    /// One JSON document: `{"findings": […], "summary": {…}}`.
    Json,
    /// JSON Lines: one `{"type":"finding",…}` object per finding, then `{"type":"summary",…}`.
    Jsonl,
    /// SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML: one test case per page; error findings are failures.
    Junit,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`) that annotate pull requests.
    Github,
    /// A Markdown summary (for `$GITHUB_STEP_SUMMARY` or a pull-request comment).
    #[serde(alias = "md")]
    Markdown,
    /// One self-contained HTML page for people: figures, charts, a filterable table of findings and
    /// every affiliate link page by page.
    Html,
}

impl Format {
    /// Every format, in `--format` help order.
    pub const ALL: [Format; 8] = [
        Format::Csv,
        Format::Json,
        Format::Jsonl,
        Format::Sarif,
        Format::Junit,
        Format::Github,
        Format::Markdown,
        Format::Html,
    ];

    /// The name used on the command line and in `affcheck.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Github => "github",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }

    /// Other names accepted for it (`md` for `markdown`).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Format::Markdown => &["md"],
            _ => &[],
        }
    }

    /// One line on what the format is for (`--help`).
    pub fn description(self) -> &'static str {
        match self {
            Format::Csv => "the CSV contract: one row per finding",
            Format::Json => "one JSON document with every finding and the summary",
            Format::Jsonl => "JSON Lines: one object per finding, then the summary",
            Format::Sarif => "SARIF 2.1.0 for GitHub code scanning and other SARIF viewers",
            Format::Junit => "JUnit XML: one test case per page; error findings fail",
            Format::Github => "GitHub Actions annotations on pull requests",
            Format::Markdown => "a Markdown summary for a job summary or a pull-request comment",
            Format::Html => {
                "one self-contained HTML page: figures, charts, findings table, links by page"
            }
        }
    }

    /// The file written for this format under `--output-dir`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Csv => "report.csv",
            Format::Json => "report.json",
            Format::Jsonl => "report.jsonl",
            Format::Sarif => "report.sarif",
            Format::Junit => "report.junit.xml",
            Format::Github => "report.github.txt",
            Format::Markdown => "report.md",
            Format::Html => "report.html",
        }
    }

    /// A writer of this format on `out`. `locations` maps pages to repository files (used by
    /// SARIF, GitHub and JUnit; pass `&Locations::default()` when there are none). Writers that
    /// start with a header write it now.
    pub fn writer(
        self,
        out: Box<dyn Write + Send>,
        locations: &Locations,
    ) -> io::Result<Box<dyn ReportWriter + Send>> {
        Ok(match self {
            Format::Csv => Box::new(CsvReport::new(out)?),
            Format::Json => Box::new(JsonReport::new(out)?),
            Format::Jsonl => Box::new(JsonLinesReport::new(out)),
            Format::Sarif => Box::new(SarifReport::new(out, locations.clone())?),
            Format::Junit => Box::new(JunitReport::new(out, locations.clone())),
            Format::Github => Box::new(GithubReport::new(out, locations.clone())),
            Format::Markdown => Box::new(MarkdownReport::new(out)),
            Format::Html => Box::new(HtmlReport::new(out)?),
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown report format `{0}`; expected one of csv, json, jsonl, sarif, junit, github, markdown, html"
)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == lower || f.aliases().contains(&lower.as_str()))
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// Several writers fed as one: the CLI calls `write_page` / `finish` once and every requested
/// format gets the page. An I/O error names the file it happened on.
#[derive(Default)]
pub struct MultiReport {
    writers: Vec<(String, Box<dyn ReportWriter + Send>)>,
}

impl fmt::Debug for MultiReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.writers.iter().map(|(label, _)| label))
            .finish()
    }
}

impl MultiReport {
    /// No writers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a writer (any writer of this module, or a boxed one from [`Format::writer`]);
    /// `label` (a file name, "standard output") names it in errors.
    pub fn push(&mut self, label: impl Into<String>, writer: impl ReportWriter + Send + 'static) {
        self.writers.push((label.into(), Box::new(writer)));
    }

    /// Adds a writer of `format` on a new file at `path` (created or truncated, buffered).
    pub fn add_file(
        &mut self,
        format: Format,
        path: &Path,
        locations: &Locations,
    ) -> io::Result<()> {
        let label = path.display().to_string();
        let file = File::create(path).map_err(|e| with_label(&label, "cannot create", e))?;
        let writer = format
            .writer(Box::new(BufWriter::new(file)), locations)
            .map_err(|e| with_label(&label, "cannot write", e))?;
        self.writers.push((label, writer));
        Ok(())
    }

    /// Creates `dir` (and its parents) and adds one writer per format (duplicates ignored) on
    /// `dir/`[`Format::file_name`]. Returns the files created, in order.
    pub fn add_output_dir(
        &mut self,
        dir: &Path,
        formats: &[Format],
        locations: &Locations,
    ) -> io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)
            .map_err(|e| with_label(&dir.display().to_string(), "cannot create", e))?;
        let mut created = Vec::new();
        let mut seen = Vec::new();
        for &format in formats {
            if seen.contains(&format) {
                continue;
            }
            seen.push(format);
            let path = dir.join(format.file_name());
            self.add_file(format, &path, locations)?;
            created.push(path);
        }
        Ok(created)
    }

    /// Number of writers.
    pub fn len(&self) -> usize {
        self.writers.len()
    }

    /// Whether there are no writers.
    pub fn is_empty(&self) -> bool {
        self.writers.is_empty()
    }

    fn each(
        &mut self,
        mut f: impl FnMut(&mut (dyn ReportWriter + Send)) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut first_error = None;
        for (label, writer) in &mut self.writers {
            if let Err(e) = f(writer.as_mut())
                && first_error.is_none()
            {
                first_error = Some(with_label(label, "cannot write", e));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn with_label(label: &str, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {label}: {e}"))
}

impl ReportWriter for MultiReport {
    /// Writes the page to every writer; on an error the others still get the page and the first
    /// error is returned.
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        self.each(|w| w.write_page(page))
    }

    fn write_skipped(&mut self, page: &str, reason: &str) -> io::Result<()> {
        self.each(|w| w.write_skipped(page, reason))
    }

    fn write_failed(&mut self, target: &str, error: &str) -> io::Result<()> {
        self.each(|w| w.write_failed(target, error))
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.each(|w| w.finish(summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_files_are_distinct() {
        let mut files = std::collections::HashSet::new();
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
            assert_eq!(f.to_string(), f.name());
            assert!(files.insert(f.file_name()));
            for alias in f.aliases() {
                assert_eq!(alias.parse::<Format>().unwrap(), f);
            }
        }
        assert_eq!("MD".parse::<Format>().unwrap(), Format::Markdown);
        let err = "xml".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("`xml`"));
    }

    #[test]
    fn multi_report_writes_every_format_into_a_folder() {
        let dir = std::env::temp_dir().join(format!("affcheck-multi-{}", std::process::id()));
        let mut multi = MultiReport::new();
        let files = multi
            .add_output_dir(
                &dir,
                &[Format::Csv, Format::Json, Format::Csv],
                &Locations::default(),
            )
            .unwrap();
        assert_eq!(files.len(), 2);
        multi
            .write_page(&PageReport {
                page_url: "a.html".into(),
                findings: Vec::new(),
                links: Vec::new(),
            })
            .unwrap();
        multi.finish(&Summary::default()).unwrap();
        drop(multi);
        let json = std::fs::read_to_string(dir.join("report.json")).unwrap();
        assert!(json.starts_with("{\"findings\":["), "{json}");
        let csv = std::fs::read_to_string(dir.join("report.csv")).unwrap();
        assert!(csv.starts_with("page_url,rule"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
