//! Baselines: accept the findings of an earlier report and report only what is new.
//!
//! A baseline is an earlier findings CSV (the `--output` report: a header row with at least
//! `page_url`, `rule` and `link_url`; extra columns are ignored). A finding is *baselined* when
//! the baseline has a row with the same page, rule and link (the link compared as the scorer does:
//! scheme and host lower-cased, fragment dropped). Lines, link texts, messages and excerpts are
//! not part of the key, so moving a link within a page or rewording its text keeps it baselined.
//!
//! Keys are counted as a multiset: a baseline with one row for a link absorbs one finding for that
//! link on that page, and a second copy of the same undisclosed link is new.
//!
//! ```no_run
//! # use affcheck::baseline::Baseline;
//! # fn run(reports: Vec<affcheck::findings::PageReport>) -> Result<(), Box<dyn std::error::Error>> {
//! let mut baseline = Baseline::load("affcheck-baseline.csv".as_ref())?;
//! for mut page in reports {
//!     baseline.filter(&mut page); // drops known findings
//!     // … write `page` to the reports, add it to the summary …
//! }
//! let counts = baseline.counts(); // baselined / fixed, for the summary
//! # let _ = counts; Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::findings::PageReport;
use crate::report::spreadsheet_safe;
pub use crate::report::{BaselineCounts, normalize_link};

/// Why a baseline could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("cannot read the baseline {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a findings CSV.
    #[error("baseline {path}:{line}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// One baseline key with how many rows of the baseline carry it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BaselineEntry {
    /// The page, normalized like links.
    pub page_url: String,
    /// The rule id.
    pub rule: String,
    /// The link URL, normalized ([`normalize_link`]).
    pub link_url: String,
    /// How many rows of the baseline (or how many of them are left over).
    pub count: usize,
}

type Key = (String, String, String);

/// An accepted set of findings, read from an earlier CSV report.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// Rows per key still to be matched.
    remaining: HashMap<Key, usize>,
    /// Rows in the file.
    rows: usize,
    /// Findings dropped so far.
    baselined: usize,
    /// Normalized pages audited so far.
    audited: HashSet<String>,
}

fn key(page_url: &str, rule: &str, link_url: &str) -> Key {
    (
        normalize_link(page_url),
        rule.to_string(),
        normalize_link(link_url),
    )
}

impl Baseline {
    /// Reads a baseline CSV. Errors name the file and, for malformed content, the line.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let file = std::fs::File::open(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_reader(path, std::io::BufReader::new(file))
    }

    /// Reads a baseline CSV from `reader`; `name` is used in errors.
    pub fn from_reader(name: &Path, reader: impl Read) -> Result<Baseline, BaselineError> {
        let malformed = |line: u64, message: String| BaselineError::Malformed {
            path: name.to_path_buf(),
            line,
            message,
        };
        let csv_error = |err: csv::Error| {
            let line = err.position().map_or(1, |p| p.line().max(1));
            match err.into_kind() {
                csv::ErrorKind::Io(source) => BaselineError::Read {
                    path: name.to_path_buf(),
                    source,
                },
                csv::ErrorKind::Utf8 { err, .. } => malformed(line, format!("not UTF-8 ({err})")),
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => malformed(
                    line,
                    format!("{len} fields where the header has {expected_len}"),
                ),
                other => malformed(line, format!("{other:?}")),
            }
        };
        let mut rows = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(reader);
        let headers = rows.headers().map_err(csv_error)?.clone();
        let column = |name: &str| {
            headers.iter().position(|h| h.trim() == name).ok_or_else(|| {
                malformed(
                    1,
                    format!(
                        "no `{name}` column; a baseline is a findings report written by `affcheck check --output` (header: {})",
                        crate::report::CSV_HEADER.join(",")
                    ),
                )
            })
        };
        let (page_col, rule_col, link_col) =
            (column("page_url")?, column("rule")?, column("link_url")?);
        let mut baseline = Baseline::default();
        let mut record = csv::StringRecord::new();
        while rows.read_record(&mut record).map_err(csv_error)? {
            let line = record.position().map_or(0, |p| p.line());
            let field = |i: usize| record.get(i).unwrap_or("");
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if field(rule_col).trim().is_empty() {
                return Err(malformed(line, "empty `rule`".into()));
            }
            *baseline
                .remaining
                .entry(key(
                    field(page_col),
                    field(rule_col).trim(),
                    field(link_col),
                ))
                .or_default() += 1;
            baseline.rows += 1;
        }
        Ok(baseline)
    }

    /// Rows in the baseline file.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the baseline has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Removes from `page` the findings the baseline accepts and returns how many it removed.
    /// Each baseline row absorbs one finding. Call once per audited page, after any other
    /// filtering (config severity `off`, ignores), so that [`Baseline::counts`] knows the page.
    pub fn filter(&mut self, page: &mut PageReport) -> usize {
        self.audited
            .insert(normalize_link(&spreadsheet_safe(&page.page_url)));
        let before = page.findings.len();
        page.findings.retain(|f| {
            let k = key(
                &spreadsheet_safe(&f.page_url),
                f.rule.id(),
                &spreadsheet_safe(&f.link_url),
            );
            match self.remaining.get_mut(&k) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            }
        });
        let removed = before - page.findings.len();
        self.baselined += removed;
        removed
    }

    /// Baseline keys not matched on pages this run audited: findings that were fixed.
    pub fn fixed(&self) -> Vec<BaselineEntry> {
        self.left_over(true)
    }

    /// Baseline keys on pages this run did not audit (another target set, or a page that could not
    /// be read): neither seen nor known to be fixed.
    pub fn unvisited(&self) -> Vec<BaselineEntry> {
        self.left_over(false)
    }

    fn left_over(&self, audited: bool) -> Vec<BaselineEntry> {
        let mut out: Vec<BaselineEntry> = self
            .remaining
            .iter()
            .filter(|((page, _, _), n)| **n > 0 && self.audited.contains(page) == audited)
            .map(|((page_url, rule, link_url), n)| BaselineEntry {
                page_url: page_url.clone(),
                rule: rule.clone(),
                link_url: link_url.clone(),
                count: *n,
            })
            .collect();
        out.sort();
        out
    }

    /// Baselined, fixed and unvisited counts so far.
    pub fn counts(&self) -> BaselineCounts {
        let mut fixed = 0;
        let mut unvisited = 0;
        for ((page, _, _), n) in &self.remaining {
            if self.audited.contains(page) {
                fixed += n;
            } else {
                unvisited += n;
            }
        }
        BaselineCounts {
            baselined: self.baselined,
            fixed,
            unvisited,
        }
    }

    /// Baseline rows per rule id (for a note such as "baseline: 12 undisclosed, 3 …").
    pub fn rows_by_rule(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for ((_, rule, _), n) in &self.remaining {
            *out.entry(rule.clone()).or_default() += n;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Finding, Rule};

    fn finding(page: &str, link: &str, line: u32) -> Finding {
        Finding {
            page_url: page.into(),
            rule: Rule::Undisclosed,
            severity: Rule::Undisclosed.severity(),
            link_url: link.into(),
            network: "n".into(),
            link_text: "t".into(),
            line,
            disclosure_excerpt: Default::default(),
            disclosure_strength: None,
            disclosure_rule: Default::default(),
            message: "m".into(),
        }
    }

    fn parse(text: &str) -> Result<Baseline, BaselineError> {
        Baseline::from_reader(Path::new("base.csv"), text.as_bytes())
    }

    #[test]
    fn normalizes_like_the_scorer() {
        assert_eq!(
            normalize_link("HTTPS://WWW.Amazon.COM/Dp/B1?Tag=X#frag"),
            "https://www.amazon.com/Dp/B1?Tag=X"
        );
        assert_eq!(normalize_link("HTTP://Host.Example"), "http://host.example");
        assert_eq!(normalize_link("site/a#b.html"), "site/a#b.html");
    }

    #[test]
    fn multiset_and_counts() {
        let mut b = parse(
            "page_url,rule,severity,link_url,extra\n\
             p.html,undisclosed,error,https://A.example/x#f,1\n\
             p.html,undisclosed,error,https://gone.example/,2\n\
             q.html,undisclosed,error,https://q.example/,3\n",
        )
        .unwrap();
        assert_eq!(b.len(), 3);
        let mut page = PageReport {
            page_url: "p.html".into(),
            findings: vec![
                finding("p.html", "https://a.example/x", 3),
                finding("p.html", "https://a.example/x", 9),
            ],
            links: Vec::new(),
        };
        assert_eq!(b.filter(&mut page), 1);
        assert_eq!(page.findings.len(), 1);
        assert_eq!(page.findings[0].line, 9);
        assert_eq!(
            b.counts(),
            BaselineCounts {
                baselined: 1,
                fixed: 1,
                unvisited: 1
            }
        );
        assert_eq!(b.fixed()[0].link_url, "https://gone.example/");
        assert_eq!(b.unvisited()[0].page_url, "q.html");
    }

    #[test]
    fn formula_guarded_cells_match() {
        let mut b =
            parse("page_url,rule,link_url\n'-page.html,undisclosed,https://a.example/\n").unwrap();
        let mut page = PageReport {
            page_url: "-page.html".into(),
            findings: vec![finding("-page.html", "https://a.example/", 1)],
            links: Vec::new(),
        };
        assert_eq!(b.filter(&mut page), 1);
    }

    #[test]
    fn errors_name_file_and_line() {
        let err = parse("page_url,rule,link_url\na,undisclosed,x\nb,undisclosed\n").unwrap_err();
        assert!(err.to_string().starts_with("baseline base.csv:3:"), "{err}");
        let err = parse("page,rule\n").unwrap_err();
        assert!(
            err.to_string().contains("base.csv:1: no `page_url` column"),
            "{err}"
        );
        let err = parse("page_url,rule,link_url\na,,x\n").unwrap_err();
        assert!(
            err.to_string().contains("base.csv:2: empty `rule`"),
            "{err}"
        );
        assert!(parse("").is_err());
    }
}
