//! The one event stream every input produces, and the sink chain that consumes it.
//!
//! `check` (files, folders, URLs), `crawl` and `warc` all turn what they read into [`Event`]s: a
//! page audited, a document not audited (and why), a target that failed, progress, a note. A
//! [`Sink`] consumes them. [`ReportSink`] is the chain every command ends in:
//!
//! ```text
//! Event ─▶ Policy (config ignores and severities, baseline) ─▶ Summary ─▶ report writers
//!                                                                       (every --format,
//!                                                                        --inventory, --errors)
//! ```
//!
//! so a page gets the same rows whatever the input. The crawl's resumable journal records the
//! events before they reach the sink and replays them on resume (see [`crate::crawl`]).

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::findings::PageReport;
use crate::policy::Policy;
use crate::report::{InventoryReport, MultiReport, ReportWriter, Summary};

/// Something that happened to one input, or to the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A page was audited (findings before any policy).
    Audited(PageReport),
    /// A document was read, or a URL answered, but there is no page to audit.
    NotAudited(NotAudited),
    /// A target, page or record could not be read.
    Failed(Failure),
    /// How far a long run has come.
    Progress(Progress),
    /// Something the user should know that is neither a finding nor a failure.
    Note(String),
}

/// A document or response that was not audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotAudited {
    /// The page, URL or record.
    pub page: String,
    /// Why, for the reader ("not HTML (content type application/pdf)").
    pub reason: String,
    /// The summary's breakdown key ("not HTML", "redirects", "too large" …).
    pub key: String,
    /// Whether it counts as a skipped page in the summary and reports (a non-HTML page does; a
    /// redirect, a duplicate, a robots.txt refusal or a WARC request record is only listed in the
    /// breakdown).
    pub skipped: bool,
}

/// A target that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The file, URL or record.
    pub target: String,
    /// What went wrong and what to try, naming the target.
    pub message: String,
    /// The final HTTP status, when a server answered.
    pub status: Option<u16>,
    /// Requests made (1 for files).
    pub attempts: u32,
}

/// A snapshot of a long run, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Pages audited so far.
    pub pages: usize,
    /// Inputs finished in any way.
    pub done: usize,
    /// Inputs waiting or in flight, when known.
    pub queued: usize,
    /// Failures so far.
    pub errors: usize,
    /// Milliseconds since the run started.
    pub elapsed_ms: u64,
}

/// Consumes events. Called on one thread, in the order of the input.
pub trait Sink {
    /// Takes one event. An error stops the run (a report that cannot be written).
    fn event(&mut self, event: Event) -> io::Result<()>;
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn event(&mut self, event: Event) -> io::Result<()> {
        (**self).event(event)
    }
}

/// Columns of the `--errors` file.
pub const ERRORS_HEADER: [&str; 4] = ["url", "status", "error", "attempts"];

/// The `--errors` file: one row per failed target (`url,status,error,attempts`).
pub struct ErrorsCsv {
    out: csv::Writer<Box<dyn Write + Send>>,
}

impl ErrorsCsv {
    /// Starts the file with its header.
    pub fn new(out: Box<dyn Write + Send>) -> io::Result<Self> {
        let mut out = csv::Writer::from_writer(out);
        out.write_record(ERRORS_HEADER)?;
        out.flush()?;
        Ok(ErrorsCsv { out })
    }

    /// Writes one failure and flushes.
    pub fn write(&mut self, f: &Failure) -> io::Result<()> {
        let status = f.status.map(|s| s.to_string()).unwrap_or_default();
        let attempts = f.attempts.to_string();
        self.out
            .write_record([f.target.as_str(), &status, &f.message, &attempts])?;
        self.out.flush()
    }
}

/// The sink chain every command ends in: policy → summary → report writers.
pub struct ReportSink {
    policy: Policy,
    summary: Summary,
    reports: MultiReport,
    inventory: Option<InventoryReport<Box<dyn Write + Send>>>,
    errors: Option<ErrorsCsv>,
}

impl ReportSink {
    /// A chain applying `policy` and writing to `reports`.
    pub fn new(policy: Policy, reports: MultiReport) -> Self {
        ReportSink {
            policy,
            summary: Summary::default(),
            reports,
            inventory: None,
            errors: None,
        }
    }

    /// Also writes every affiliate link of every reported page (`--inventory`).
    pub fn with_inventory(mut self, inventory: InventoryReport<Box<dyn Write + Send>>) -> Self {
        self.inventory = Some(inventory);
        self
    }

    /// Also writes every failure to an errors file (`--errors`).
    pub fn with_errors(mut self, errors: ErrorsCsv) -> Self {
        self.errors = Some(errors);
        self
    }

    /// Whether failures go to an errors file.
    pub fn has_errors_file(&self) -> bool {
        self.errors.is_some()
    }

    /// Ends every report with the summary (the baseline's counts and `elapsed` filled in) and
    /// returns it.
    pub fn finish(mut self, elapsed: std::time::Duration) -> io::Result<Summary> {
        self.summary.elapsed = elapsed;
        self.summary.baseline = self.policy.baseline_counts();
        self.reports.finish(&self.summary)?;
        if let Some(inv) = self.inventory.as_mut() {
            inv.finish(&self.summary)?;
        }
        Ok(self.summary)
    }
}

impl Sink for ReportSink {
    fn event(&mut self, event: Event) -> io::Result<()> {
        match event {
            Event::Audited(mut page) => {
                if !self.policy.apply(&mut page) {
                    self.summary.ignored += 1;
                    return Ok(());
                }
                self.summary.add(&page);
                self.reports.write_page(&page)?;
                if let Some(inv) = self.inventory.as_mut() {
                    inv.write_page(&page)?;
                }
            }
            Event::NotAudited(n) => {
                *self.summary.not_audited.entry(n.key.clone()).or_default() += 1;
                if n.skipped {
                    self.summary.skipped += 1;
                    self.reports.write_skipped(&n.page, &n.reason)?;
                }
            }
            Event::Failed(f) => {
                self.summary.failed += 1;
                self.reports.write_failed(&f.target, &f.message)?;
                if let Some(e) = self.errors.as_mut() {
                    e.write(&f)?;
                }
            }
            Event::Progress(_) | Event::Note(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Baseline;
    use crate::config::Config;
    use crate::report::CsvReport;
    use std::sync::{Arc, Mutex};

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn page(url: &str) -> PageReport {
        let mut p = crate::report::tests::report();
        p.page_url = url.into();
        for f in &mut p.findings {
            f.page_url = url.into();
        }
        p
    }

    #[test]
    fn policy_then_summary_then_writers() {
        let config = Config::parse(
            std::path::Path::new("affcheck.toml"),
            "[site]\nignore_paths = ['/drafts/**']\n",
        )
        .unwrap();
        let out = Shared::default();
        let mut reports = MultiReport::new();
        reports.push(
            "test",
            CsvReport::new(Box::new(out.clone()) as Box<dyn Write + Send>).unwrap(),
        );
        let errors = Shared::default();
        let mut sink = ReportSink::new(Policy::new(&config, false, None), reports)
            .with_errors(ErrorsCsv::new(Box::new(errors.clone())).unwrap());
        sink.event(Event::Audited(page("https://s.example/a.html")))
            .unwrap();
        sink.event(Event::Audited(page("https://s.example/drafts/b.html")))
            .unwrap();
        sink.event(Event::NotAudited(NotAudited {
            page: "https://s.example/r".into(),
            reason: "redirect".into(),
            key: "redirects".into(),
            skipped: false,
        }))
        .unwrap();
        sink.event(Event::Failed(Failure {
            target: "https://s.example/x".into(),
            message: "HTTP 500".into(),
            status: Some(500),
            attempts: 4,
        }))
        .unwrap();
        let summary = sink.finish(std::time::Duration::ZERO).unwrap();
        assert_eq!(
            (
                summary.pages,
                summary.ignored,
                summary.skipped,
                summary.failed
            ),
            (1, 1, 0, 1)
        );
        assert_eq!(summary.not_audited["redirects"], 1);
        let csv = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(csv.contains("/a.html") && !csv.contains("drafts"), "{csv}");
        let errors = String::from_utf8(errors.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            errors,
            "url,status,error,attempts\nhttps://s.example/x,500,HTTP 500,4\n"
        );
    }

    #[test]
    fn a_baselined_page_reports_nothing_new() {
        let old = "page_url,rule,severity,link_url,network,link_text,line,disclosure_excerpt,message\n\
                   https://s.example/a.html,undisclosed,error,https://www.amazon.com/dp/B1?tag=x-20&a=1,Amazon Associates,x,7,,m\n";
        let baseline =
            Baseline::from_reader(std::path::Path::new("old.csv"), old.as_bytes()).unwrap();
        let out = Shared::default();
        let mut reports = MultiReport::new();
        reports.push(
            "test",
            CsvReport::new(Box::new(out.clone()) as Box<dyn Write + Send>).unwrap(),
        );
        let mut sink = ReportSink::new(
            Policy::new(&Config::default(), false, Some(baseline)),
            reports,
        );
        sink.event(Event::Audited(page("https://s.example/a.html")))
            .unwrap();
        let summary = sink.finish(std::time::Duration::ZERO).unwrap();
        assert_eq!(summary.by_rule.values().sum::<usize>(), 0);
        assert_eq!(summary.baseline.unwrap().baselined, 1);
    }

    #[test]
    fn events_survive_a_json_round_trip() {
        let e = Event::Audited(page("https://s.example/a.html"));
        let line = serde_json::to_string(&e).unwrap();
        let back: Event = serde_json::from_str(&line).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), line);
    }
}
