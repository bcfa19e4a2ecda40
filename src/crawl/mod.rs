//! Site-wide crawls that feed the audit core: every fetched HTML page goes through the same
//! [`pipeline::audit_document`](crate::pipeline) stages as `affcheck check`, and rows follow the
//! same CSV contract.
//!
//! The crawl runs on a Tokio runtime. One loop owns the frontier, the visited set, the output
//! files and the `--state` journal; tasks fetch, parse and audit pages concurrently and hand their
//! outcome back to the loop, which writes the rows, admits newly found links and records progress.
//! Fetching is polite (per-host limits, delays, robots.txt, bounded retries) and redirects are never
//! followed blindly: a page redirect becomes a new frontier entry, and a same-site link that looks
//! like a cloaked affiliate link is requested without following it, so its `Location` can be
//! classified.

pub mod sitemap;
pub mod state;

use std::collections::{HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::OnceCell;
use tokio::task::JoinSet;
use url::Url;

use crate::document::Document;
use crate::fetch::robots::{self, RobotsCache};
use crate::fetch::{self, Failure, FetchConfig, Fetcher, Want};
use crate::findings::{self, AuditOptions, PageReport, Rule};
use crate::page;
use crate::report::{CsvReport, Summary, rule_counts};
use crate::rules::Ruleset;
use crate::scope::{Scope, normalize};
use state::{DoneKind, Journal};

/// Redirect chains longer than this are reported as errors.
pub const MAX_REDIRECTS: u32 = 10;

/// Sitemaps read at most per crawl (an index pointing at indexes could go on forever).
const MAX_SITEMAPS: usize = 1000;

/// File extensions that are never HTML pages; links to them are not fetched.
const NOT_PAGES: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff", "pdf", "zip",
    "gz", "tgz", "rar", "7z", "mp3", "mp4", "m4a", "webm", "mov", "avi", "wav", "ogg", "css", "js",
    "mjs", "json", "woff", "woff2", "ttf", "otf", "eot", "exe", "dmg", "apk", "iso",
];

/// What to crawl and how.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// Start URLs (depth 0).
    pub starts: Vec<Url>,
    /// Sitemaps to read besides those robots.txt names.
    pub sitemaps: Vec<Url>,
    /// Most pages audited; 0 for no limit.
    pub max_pages: usize,
    /// Deepest link depth followed (start and sitemap pages are depth 0); `None` for no limit.
    pub max_depth: Option<u32>,
    /// Widen the scope from the start hosts to their registrable domains.
    pub subdomains: bool,
    /// URLs must match one of these (when any).
    pub include: Vec<Regex>,
    /// URLs matching any of these are not crawled.
    pub exclude: Vec<Regex>,
    /// Crawl what robots.txt forbids.
    pub ignore_robots: bool,
    /// HTTP behaviour. `header_hosts` is filled in from the start URLs.
    pub fetch: FetchConfig,
    /// Audit options.
    pub audit: AuditOptions,
    /// Pages parsed at once (CPU-bound work); defaults to the number of CPUs.
    pub parse_threads: usize,
}

/// Where the crawl writes.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// The CSV report; standard output when `None`.
    pub report: Option<PathBuf>,
    /// The CSV of URLs that could not be fetched (`url,status,error,attempts`).
    pub errors: Option<PathBuf>,
    /// The resumable journal.
    pub state: Option<PathBuf>,
    /// A WARC file that receives every page response whose body was read (and every page
    /// redirect), gzip-compressed per record when the name ends in `.gz`. A resumed crawl appends
    /// to it.
    pub warc: Option<PathBuf>,
}

/// Columns of the errors file.
pub const ERRORS_HEADER: [&str; 4] = ["url", "status", "error", "attempts"];

/// Why a crawl could not run.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// Nothing to crawl.
    #[error("give at least one start URL or --sitemap")]
    NothingToCrawl,
    /// `--state` needs a report file to resume.
    #[error("--state needs --output FILE: a resumed crawl appends to its report file")]
    StateNeedsOutput,
    /// A start URL is not an http(s) URL.
    #[error("{0}: not an http(s) URL; write it as https://example.com/")]
    BadStart(String),
    /// An output file could not be opened or written.
    #[error("{path}: {source}")]
    Output {
        /// The file.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// The journal could not be read or written.
    #[error(transparent)]
    State(#[from] state::StateError),
    /// The HTTP client could not be built.
    #[error("{0}")]
    Client(String),
}

/// Counts for the closing summary.
#[derive(Debug, Default, Clone)]
pub struct CrawlSummary {
    /// What was audited, as for `check`: pages (resumed runs include earlier runs' pages),
    /// responses that were not HTML (`skipped`), URLs that finally failed (`failed`), affiliate
    /// links, findings by rule and severity, and the wall time of this run.
    pub audit: Summary,
    /// URLs robots.txt forbids.
    pub blocked: usize,
    /// Redirect responses followed or resolved.
    pub redirects: usize,
    /// Pages not audited because their canonical URL was audited already.
    pub duplicates: usize,
    /// Pages audited in this run (for the rate).
    pub pages_this_run: usize,
    /// URLs left in the frontier because `--max-pages` was reached.
    pub left_in_frontier: usize,
}

impl std::fmt::Display for CrawlSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = &self.audit;
        let secs = a.elapsed.as_secs_f64();
        let s = |n: usize| if n == 1 { "" } else { "s" };
        write!(
            f,
            "{} page{}, {} error{}, {} affiliate link{}",
            a.pages,
            s(a.pages),
            a.failed,
            s(a.failed),
            a.affiliate_links,
            s(a.affiliate_links)
        )?;
        let total: usize = a.by_rule.values().sum();
        write!(
            f,
            ", {total} finding{}{}",
            s(total),
            rule_counts(&a.by_rule)
        )?;
        let mut extra = Vec::new();
        for (n, what) in [
            (a.skipped, "not HTML"),
            (self.blocked, "blocked by robots.txt"),
            (self.redirects, "redirects"),
            (self.duplicates, "duplicates by canonical URL"),
        ] {
            if n > 0 {
                extra.push(format!("{n} {what}"));
            }
        }
        if !extra.is_empty() {
            write!(f, "; {}", extra.join(", "))?;
        }
        if self.left_in_frontier > 0 {
            write!(
                f,
                "; stopped at --max-pages with {} URLs not crawled",
                self.left_in_frontier
            )?;
        }
        write!(
            f,
            " in {secs:.1} s ({:.0} pages/s)",
            if secs > 0.0 {
                self.pages_this_run as f64 / secs
            } else {
                0.0
            }
        )
    }
}

/// A snapshot for progress displays.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Pages audited.
    pub pages: usize,
    /// URLs finished in any way.
    pub done: usize,
    /// URLs waiting or in flight.
    pub queued: usize,
    /// Failed URLs.
    pub errors: usize,
    /// Since the start of this run.
    pub elapsed: Duration,
}

/// Receives progress and notes while the crawl runs (the CLI draws a bar or prints lines).
pub trait Observer {
    /// Called after each finished URL.
    fn progress(&mut self, progress: &Progress);
    /// A note for the user (a failed URL when there is no errors file, an unreachable robots.txt).
    fn note(&mut self, message: &str);
    /// Sees each audited page before its rows are written, and may drop or change findings
    /// (config overrides, a baseline).
    fn filter(&mut self, _page: &mut PageReport) {}
}

/// One frontier entry.
#[derive(Debug, Clone)]
struct Item {
    url: Url,
    depth: u32,
    hops: u32,
    /// URLs that redirected here, to detect loops.
    chain: Vec<String>,
}

enum PageOutcome {
    Audited {
        report: PageReport,
        links: Vec<Url>,
        key: String,
    },
    /// The page's canonical URL was audited already; its links are still followed.
    Duplicate(Vec<Url>),
    Redirect(Url),
    NotHtml,
    Blocked,
    Failed(Failure),
}

enum TaskResult {
    Page(Item, PageOutcome),
    Sitemap(Url, Result<sitemap::Sitemap, Failure>),
}

/// State shared by the crawl tasks.
struct Shared {
    fetcher: Fetcher,
    robots: RobotsCache,
    agent: String,
    ignore_robots: bool,
    rules: Arc<Ruleset>,
    scope: Scope,
    audit: AuditOptions,
    /// The raw `Location` (or `None`: no redirect) of every cloaked link requested so far.
    locations: Mutex<FxHashMap<String, Arc<OnceCell<Option<Url>>>>>,
    /// Same-site URLs known to redirect, and where to.
    redirects: Mutex<FxHashMap<String, Url>>,
    audited_keys: Mutex<FxHashSet<String>>,
    /// The `--warc` output, opened once the crawl knows whether it resumes.
    warc: std::sync::OnceLock<WarcOut>,
}

/// The `--warc` output. Tasks encode (and compress) records themselves and write each whole under
/// the lock, before the page is journalled as done: a crawl stopped at any moment loses no record,
/// and a resumed one may repeat the records of the pages that were in flight.
struct WarcOut {
    path: PathBuf,
    gzip: bool,
    warcinfo: String,
    writer: Mutex<crate::warc::WarcWriter<File>>,
    /// The first write error; the crawl loop stops on it.
    error: Mutex<Option<io::Error>>,
}

impl WarcOut {
    fn open(path: &std::path::Path, resuming: bool) -> Result<WarcOut, CrawlError> {
        let err = |source| CrawlError::Output {
            path: path.display().to_string(),
            source,
        };
        let file = if resuming {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(err)?
        } else {
            File::create(path).map_err(err)?
        };
        let gzip = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        let mut writer = crate::warc::WarcWriter::new(file, gzip);
        let name = path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let warcinfo = writer
            .write_warcinfo(
                &name,
                &[
                    ("software", crate::input::USER_AGENT),
                    ("format", "WARC File Format 1.0"),
                    (
                        "description",
                        if resuming {
                            "affcheck crawl (resumed)"
                        } else {
                            "affcheck crawl"
                        },
                    ),
                ],
            )
            .map_err(err)?;
        Ok(WarcOut {
            path: path.to_path_buf(),
            gzip,
            warcinfo,
            writer: Mutex::new(writer),
            error: Mutex::new(None),
        })
    }

    /// Archives a page response: one whose body was read, or a redirect. The stored headers match
    /// the stored (decoded) body.
    fn archive(&self, url: &Url, f: &fetch::Fetched) {
        if !(f.body.is_some() || (300..400).contains(&f.status)) {
            return;
        }
        let headers: Vec<(String, String)> = f
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let block = crate::warc::http_response_block(
            f.status,
            &headers,
            f.body.as_deref().unwrap_or_default(),
        );
        let fields = [
            ("WARC-Target-URI", url.as_str()),
            ("WARC-Warcinfo-ID", self.warcinfo.as_str()),
            ("Content-Type", "application/http; msgtype=response"),
        ];
        let written =
            crate::warc::encode_record("response", url.as_str(), &fields, &block, self.gzip)
                .and_then(|(_, bytes)| self.writer.lock().expect("poisoned").write_encoded(&bytes));
        if let Err(e) = written {
            self.error.lock().expect("poisoned").get_or_insert(e);
        }
    }
}

/// A writer that counts what passes through it, so the journal can record file lengths.
struct Counting<W> {
    inner: W,
    count: Arc<AtomicU64>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// An output file, the shared count of bytes written to it, and whether it continues an earlier run.
type OpenedCsv = (Box<dyn Write>, Arc<AtomicU64>, bool);

/// A CSV writer and the length of its file.
type CountedCsv = (csv::Writer<Box<dyn Write>>, Arc<AtomicU64>);

/// Opens a CSV output: fresh with its header, or cut back to `offset` and appended to.
fn open_csv(path: &std::path::Path, offset: u64, resume: bool) -> Result<OpenedCsv, CrawlError> {
    let err = |source| CrawlError::Output {
        path: path.display().to_string(),
        source,
    };
    let count = Arc::new(AtomicU64::new(0));
    let continuing = resume && offset > 0 && path.exists();
    let file = if continuing {
        state::truncate(path, offset).map_err(err)?;
        count.store(offset, Ordering::Relaxed);
        OpenOptions::new().append(true).open(path).map_err(err)?
    } else {
        File::create(path).map_err(err)?
    };
    let w = Counting {
        inner: BufWriter::new(file),
        count: count.clone(),
    };
    Ok((Box::new(w), count, continuing))
}

/// Runs a crawl to the end and returns its summary. Rows are written and flushed as each page is
/// audited.
pub fn crawl(
    mut options: CrawlOptions,
    rules: Arc<Ruleset>,
    outputs: &Outputs,
    observer: &mut dyn Observer,
) -> Result<CrawlSummary, CrawlError> {
    if options.starts.is_empty() && options.sitemaps.is_empty() {
        return Err(CrawlError::NothingToCrawl);
    }
    if outputs.state.is_some() && outputs.report.is_none() {
        return Err(CrawlError::StateNeedsOutput);
    }
    let mut starts = Vec::new();
    for u in &options.starts {
        starts.push(normalize(u).ok_or_else(|| CrawlError::BadStart(u.to_string()))?);
    }
    for u in &options.sitemaps {
        normalize(u).ok_or_else(|| CrawlError::BadStart(u.to_string()))?;
    }
    let scope_urls: Vec<Url> = starts
        .iter()
        .chain(options.sitemaps.iter())
        .cloned()
        .collect();
    let mut header_hosts = Vec::new();
    for u in &starts {
        if let Some(h) = u.host_str() {
            let bare = h.strip_prefix("www.").unwrap_or(h).to_string();
            header_hosts.push(format!("www.{bare}"));
            header_hosts.push(bare);
        }
    }
    options.fetch.header_hosts = header_hosts;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.parse_threads.clamp(1, 4))
        .enable_all()
        .build()
        .map_err(|e| CrawlError::Client(format!("cannot start the async runtime: {e}")))?;
    let agent = robots::agent_token(&options.fetch.user_agent).to_string();
    let fetcher = Fetcher::new(options.fetch.clone()).map_err(CrawlError::Client)?;
    let shared = Arc::new(Shared {
        fetcher,
        robots: RobotsCache::default(),
        agent,
        ignore_robots: options.ignore_robots,
        rules,
        scope: Scope::new(
            &scope_urls,
            options.subdomains,
            options.include.clone(),
            options.exclude.clone(),
        ),
        audit: options.audit.clone(),
        locations: Mutex::default(),
        redirects: Mutex::default(),
        audited_keys: Mutex::default(),
        warc: std::sync::OnceLock::new(),
    });
    runtime.block_on(run(options, starts, shared, outputs, observer))
}

/// The crawl loop's own state.
struct Crawl<'a> {
    options: CrawlOptions,
    shared: Arc<Shared>,
    report: CsvReport<Box<dyn Write>>,
    report_len: Arc<AtomicU64>,
    errors: Option<CountedCsv>,
    journal: Option<Journal>,
    frontier: VecDeque<Item>,
    seen: FxHashSet<String>,
    sitemap_queue: VecDeque<Url>,
    sitemaps_seen: HashSet<String>,
    summary: CrawlSummary,
    /// Same-site redirects seen (from → to), to detect loops across frontier entries.
    redirect_graph: FxHashMap<String, String>,
    /// Path prefixes already named in a note about uncloaked affiliate redirects.
    noted_prefixes: HashSet<String>,
    pages_in_flight: usize,
    done: usize,
    observer: &'a mut dyn Observer,
    started: Instant,
}

async fn run(
    options: CrawlOptions,
    starts: Vec<Url>,
    shared: Arc<Shared>,
    outputs: &Outputs,
    observer: &mut dyn Observer,
) -> Result<CrawlSummary, CrawlError> {
    let started = Instant::now();
    let (journal, resumed) = match &outputs.state {
        Some(path) => {
            let (j, r) = Journal::open(path)?;
            (Some(j), Some(r))
        }
        None => (None, None),
    };
    let resuming = resumed.as_ref().is_some_and(|r| !r.seen.is_empty());
    if let Some(path) = &outputs.warc {
        let _ = shared.warc.set(WarcOut::open(path, resuming)?);
    }
    let report_offset = resumed.as_ref().map_or(0, |r| r.report_offset);
    let errors_offset = resumed.as_ref().map_or(0, |r| r.errors_offset);
    let (report_out, report_len, continuing) = match &outputs.report {
        Some(path) => open_csv(path, report_offset, resuming)?,
        None => {
            let count = Arc::new(AtomicU64::new(0));
            let w = Counting {
                inner: BufWriter::new(io::stdout()),
                count: count.clone(),
            };
            (Box::new(w) as Box<dyn Write>, count, false)
        }
    };
    let report_err = |source| CrawlError::Output {
        path: outputs
            .report
            .as_ref()
            .map_or("standard output".into(), |p| p.display().to_string()),
        source,
    };
    let report = if continuing {
        CsvReport::continuing(report_out)
    } else {
        CsvReport::new(report_out).map_err(report_err)?
    };
    let mut resumed_errors = 0;
    let errors = match &outputs.errors {
        Some(path) => {
            let (w, len, cont) = open_csv(path, errors_offset, resuming)?;
            if cont {
                // Failures of earlier runs count in the summary too.
                resumed_errors = csv::Reader::from_path(path)
                    .map(|mut r| r.records().count())
                    .unwrap_or(0);
            }
            let mut w = csv::Writer::from_writer(w);
            if !cont {
                w.write_record(ERRORS_HEADER)
                    .and_then(|()| w.flush().map_err(csv::Error::from))
                    .map_err(|e| CrawlError::Output {
                        path: path.display().to_string(),
                        source: e.into(),
                    })?;
            }
            Some((w, len))
        }
        None => None,
    };
    let mut crawl = Crawl {
        options,
        shared,
        report,
        report_len,
        errors,
        journal,
        frontier: VecDeque::new(),
        seen: FxHashSet::default(),
        sitemap_queue: VecDeque::new(),
        sitemaps_seen: HashSet::new(),
        summary: CrawlSummary::default(),
        redirect_graph: FxHashMap::default(),
        noted_prefixes: HashSet::new(),
        pages_in_flight: 0,
        done: 0,
        observer,
        started,
    };
    if let Some(r) = resumed {
        crawl.seen = r.seen.into_iter().collect();
        crawl.sitemaps_seen = r.sitemaps_done;
        crawl.summary.audit.pages = r.pages;
        crawl.summary.audit.affiliate_links = r.affiliate_links;
        crawl.summary.audit.failed = resumed_errors;
        crawl.done = r.finished;
        *crawl.shared.audited_keys.lock().expect("poisoned") = r.audited_keys.into_iter().collect();
        for (url, depth, hops) in r.pending {
            crawl.frontier.push_back(Item {
                url,
                depth,
                hops,
                chain: Vec::new(),
            });
        }
        if let Some(path) = &outputs.report
            && continuing
        {
            crawl.count_existing_rows(path);
        }
    }
    for url in &starts {
        crawl.admit(url.clone(), 0, 0, Vec::new())?;
    }
    for url in crawl.options.sitemaps.clone() {
        crawl.queue_sitemap(url);
    }
    if !crawl.shared.ignore_robots {
        let mut origins: Vec<Url> = starts.clone();
        origins.extend(crawl.options.sitemaps.iter().cloned());
        let mut done_origins = HashSet::new();
        for u in origins {
            if !done_origins.insert(u.origin().ascii_serialization()) {
                continue;
            }
            let robots = crawl
                .shared
                .robots
                .get(&crawl.shared.fetcher, &crawl.shared.agent, &u)
                .await;
            if let Some(failure) = &robots.failure
                && let Ok(robots_url) = u.join("/robots.txt")
            {
                // Without an errors file, write_error prints it; with one, say it here too:
                // an unreachable site is worth a line on the terminal.
                if crawl.errors.is_some() {
                    crawl
                        .observer
                        .note(&format!("{robots_url}: {}", failure.message));
                }
                crawl.write_error(&robots_url, failure)?;
            }
            // A site may keep its sitemaps on another host; the pages they list are still
            // filtered by the scope.
            for s in robots.sitemaps.clone() {
                if matches!(s.scheme(), "http" | "https") {
                    crawl.queue_sitemap(s);
                }
            }
        }
    }
    if let Some(j) = crawl.journal.as_mut() {
        j.flush()?;
    }
    crawl.run_loop().await?;
    crawl.summary.audit.elapsed = crawl.started.elapsed();
    crawl.summary.left_in_frontier = crawl.frontier.len();
    Ok(crawl.summary)
}

impl Crawl<'_> {
    /// Counts the rows a resumed report already holds, so the summary covers the whole crawl.
    fn count_existing_rows(&mut self, path: &std::path::Path) {
        let Ok(mut reader) = csv::Reader::from_path(path) else {
            return;
        };
        let Ok(header) = reader.headers() else { return };
        let col = |name: &str| header.iter().position(|c| c == name);
        let (Some(rule_col), Some(severity_col)) = (col("rule"), col("severity")) else {
            return;
        };
        for record in reader.records().flatten() {
            let rule = record.get(rule_col).and_then(Rule::from_id);
            let severity = record
                .get(severity_col)
                .and_then(findings::Severity::from_id);
            if let (Some(rule), Some(severity)) = (rule, severity) {
                self.summary.audit.count(rule, severity);
            }
        }
    }

    fn queue_sitemap(&mut self, url: Url) {
        if self.sitemaps_seen.len() < MAX_SITEMAPS && self.sitemaps_seen.insert(url.to_string()) {
            self.sitemap_queue.push_back(url);
        }
    }

    /// Adds a URL to the frontier unless it was seen before.
    fn admit(
        &mut self,
        url: Url,
        depth: u32,
        hops: u32,
        chain: Vec<String>,
    ) -> Result<bool, CrawlError> {
        if self.seen.contains(url.as_str()) {
            return Ok(false);
        }
        self.seen.insert(url.to_string());
        if let Some(j) = self.journal.as_mut() {
            j.queued(&url, depth, hops)?;
        }
        self.frontier.push_back(Item {
            url,
            depth,
            hops,
            chain,
        });
        Ok(true)
    }

    /// Admits the links of a page at `depth`, unless that is deeper than `--max-depth`.
    fn admit_links(&mut self, links: Vec<Url>, depth: u32) -> Result<(), CrawlError> {
        if self.options.max_depth.is_none_or(|max| depth <= max) {
            for link in links {
                self.admit(link, depth, 0, Vec::new())?;
            }
        }
        Ok(())
    }

    /// Whether another page fetch may start under `--max-pages`.
    fn page_budget(&self) -> bool {
        self.options.max_pages == 0
            || self.summary.audit.pages + self.pages_in_flight < self.options.max_pages
    }

    async fn run_loop(&mut self) -> Result<(), CrawlError> {
        let mut tasks: JoinSet<TaskResult> = JoinSet::new();
        let max_tasks = (self.options.fetch.concurrency * 2).max(4);
        let mut last_progress = Instant::now();
        loop {
            while tasks.len() < max_tasks {
                if let Some(url) = self.sitemap_queue.pop_front() {
                    let shared = self.shared.clone();
                    tasks.spawn(async move {
                        let result = fetch_sitemap(&shared, &url).await;
                        TaskResult::Sitemap(url, result)
                    });
                } else if self.page_budget()
                    && let Some(item) = self.frontier.pop_front()
                {
                    self.pages_in_flight += 1;
                    let shared = self.shared.clone();
                    tasks.spawn(async move {
                        let outcome = page_task(&shared, &item).await;
                        TaskResult::Page(item, outcome)
                    });
                } else {
                    break;
                }
            }
            let Some(result) = tasks.join_next().await else {
                break;
            };
            let result = match result {
                Ok(r) => r,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => continue,
            };
            match result {
                TaskResult::Page(item, outcome) => {
                    self.pages_in_flight -= 1;
                    self.finish_page(item, outcome)?;
                }
                TaskResult::Sitemap(url, result) => self.finish_sitemap(url, result)?,
            }
            if last_progress.elapsed() >= Duration::from_millis(100) || tasks.is_empty() {
                last_progress = Instant::now();
                let p = Progress {
                    pages: self.summary.audit.pages,
                    done: self.done,
                    queued: self.frontier.len() + tasks.len(),
                    errors: self.summary.audit.failed,
                    elapsed: self.started.elapsed(),
                };
                self.observer.progress(&p);
            }
        }
        Ok(())
    }

    fn finish_sitemap(
        &mut self,
        url: Url,
        result: Result<sitemap::Sitemap, Failure>,
    ) -> Result<(), CrawlError> {
        match result {
            Ok(map) => {
                for page in map.pages {
                    if let Some(page) = normalize(&page)
                        && self.shared.scope.admits(&page).is_ok()
                        && !is_not_page(&page)
                    {
                        self.admit(page, 0, 0, Vec::new())?;
                    }
                }
                for s in map.sitemaps {
                    self.queue_sitemap(s);
                }
            }
            Err(failure) => self.write_error(&url, &failure)?,
        }
        // Done either way: a resumed crawl neither reads it again nor repeats its error row.
        let (report, errors) = self.offsets();
        if let Some(j) = self.journal.as_mut() {
            j.sitemap_done(&url, report, errors)?;
        }
        Ok(())
    }

    fn finish_page(&mut self, item: Item, outcome: PageOutcome) -> Result<(), CrawlError> {
        if let Some(w) = self.shared.warc.get()
            && let Some(source) = w.error.lock().expect("poisoned").take()
        {
            return Err(CrawlError::Output {
                path: w.path.display().to_string(),
                source,
            });
        }
        self.done += 1;
        let mut kind = DoneKind::Other;
        let mut links_found = 0;
        let mut key = None;
        match outcome {
            PageOutcome::Audited {
                mut report,
                links,
                key: k,
            } => {
                self.observer.filter(&mut report);
                kind = DoneKind::Page;
                links_found = report.links.len();
                key = Some(k);
                self.summary.audit.add(&report);
                self.summary.pages_this_run += 1;
                if let Err(source) = self.report.write_page(&report) {
                    return Err(CrawlError::Output {
                        path: "the report".into(),
                        source,
                    });
                }
                self.admit_links(links, item.depth + 1)?;
            }
            PageOutcome::Redirect(target) => {
                self.summary.redirects += 1;
                let same_site = self
                    .shared
                    .scope
                    .host_in_scope(target.host_str().unwrap_or(""));
                if !same_site {
                    self.note_uncloaked_redirect(&item.url, &target);
                }
                if let Some(target) = normalize(&target)
                    && same_site
                {
                    self.redirect_graph
                        .insert(item.url.to_string(), target.to_string());
                    if target == item.url
                        || item.chain.iter().any(|c| c == target.as_str())
                        || self.loops_back(&target, &item.url)
                    {
                        let from = origin(&item);
                        self.fail(
                            &item.url,
                            None,
                            &format!("redirect loop back to {target}{from}"),
                            1,
                        )?;
                    } else if item.hops + 1 > MAX_REDIRECTS {
                        let from = origin(&item);
                        self.fail(
                            &item.url,
                            None,
                            &format!("more than {MAX_REDIRECTS} redirects in a row{from}"),
                            1,
                        )?;
                    } else if self.shared.scope.admits(&target).is_ok() {
                        let mut chain = item.chain.clone();
                        chain.push(item.url.to_string());
                        self.admit(target, item.depth, item.hops + 1, chain)?;
                    }
                }
            }
            PageOutcome::Duplicate(links) => {
                self.summary.duplicates += 1;
                self.admit_links(links, item.depth + 1)?;
            }
            PageOutcome::NotHtml => self.summary.audit.skipped += 1,
            PageOutcome::Blocked => self.summary.blocked += 1,
            PageOutcome::Failed(f) => {
                self.fail(&item.url, f.status, &f.message, f.attempts)?;
            }
        }
        let (report, errors) = self.offsets();
        if let Some(j) = self.journal.as_mut() {
            j.done(&item.url, kind, links_found, report, errors, key.as_deref())?;
        }
        Ok(())
    }

    /// Current lengths of the report and errors files.
    fn offsets(&self) -> (u64, u64) {
        let report = self.report_len.load(Ordering::Relaxed);
        let errors = self
            .errors
            .as_ref()
            .map_or(0, |(_, n)| n.load(Ordering::Relaxed));
        (report, errors)
    }

    /// Whether following known same-site redirects from `from` leads back to `to`.
    fn loops_back(&self, from: &Url, to: &Url) -> bool {
        let mut current = from.as_str();
        for _ in 0..=MAX_REDIRECTS {
            if current == to.as_str() {
                return true;
            }
            match self.redirect_graph.get(current) {
                Some(next) => current = next,
                None => return false,
            }
        }
        false
    }

    /// A same-site URL outside the cloaking prefixes redirected to an affiliate URL. Links to it
    /// are not classified by that redirect (verdicts must not depend on which page the crawl met
    /// first), so tell the user once per prefix how to make them count.
    fn note_uncloaked_redirect(&mut self, url: &Url, target: &Url) {
        if self.shared.rules.is_cloaked_link(url, Some(url)) {
            return;
        }
        let Some(class) = self.shared.rules.classify_link(target, Some(url), false) else {
            return;
        };
        let prefix = match url.path_segments().and_then(|mut s| s.next()) {
            Some(first) if !first.is_empty() && url.path().len() > first.len() + 1 => {
                format!("/{first}/")
            }
            _ => return,
        };
        if self.noted_prefixes.insert(prefix.clone()) {
            self.observer.note(&format!(
                "{url} redirects to an affiliate link ({}, {target}); links to it are not \
                 audited as affiliate links: add \"{prefix}\" to the cloaking prefixes \
                 ([[rules.cloaking]] in affcheck.toml, or a --rules file) if the site uses it for \
                 affiliate redirects",
                class.network
            ));
        }
    }

    fn fail(
        &mut self,
        url: &Url,
        status: Option<u16>,
        message: &str,
        attempts: u32,
    ) -> Result<(), CrawlError> {
        self.write_error(
            url,
            &Failure {
                status,
                message: message.to_string(),
                attempts,
            },
        )
    }

    fn write_error(&mut self, url: &Url, f: &Failure) -> Result<(), CrawlError> {
        self.summary.audit.failed += 1;
        match self.errors.as_mut() {
            Some((w, _)) => {
                let status = f.status.map(|s| s.to_string()).unwrap_or_default();
                let attempts = f.attempts.to_string();
                w.write_record([url.as_str(), &status, &f.message, &attempts])
                    .and_then(|()| w.flush().map_err(csv::Error::from))
                    .map_err(|e| CrawlError::Output {
                        path: "the errors file".into(),
                        source: e.into(),
                    })?;
            }
            None => {
                let what = match f.status {
                    Some(s) if f.message == format!("HTTP {s}") => f.message.clone(),
                    Some(s) => format!("HTTP {s}: {}", f.message),
                    None => f.message.clone(),
                };
                self.observer.note(&format!(
                    "{url}: {what} (after {} attempt{})",
                    f.attempts,
                    if f.attempts == 1 { "" } else { "s" }
                ));
            }
        }
        Ok(())
    }
}

/// " (redirect chain from URL)" when the item was reached by redirects.
fn origin(item: &Item) -> String {
    item.chain
        .first()
        .map(|first| format!(" (redirect chain from {first})"))
        .unwrap_or_default()
}

fn is_not_page(url: &Url) -> bool {
    let path = url.path();
    let last = path.rsplit('/').next().unwrap_or("");
    match last.rsplit_once('.') {
        Some((_, ext)) => NOT_PAGES.iter().any(|e| ext.eq_ignore_ascii_case(e)),
        None => false,
    }
}

async fn fetch_sitemap(shared: &Shared, url: &Url) -> Result<sitemap::Sitemap, Failure> {
    let failure = |message: String| Failure {
        status: None,
        message,
        attempts: 1,
    };
    if !shared.ignore_robots
        && !shared
            .robots
            .get(&shared.fetcher, &shared.agent, url)
            .await
            .allowed(url)
    {
        return Err(failure("sitemap disallowed by robots.txt".into()));
    }
    let mut current = url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let f = shared.fetcher.get(&current, Want::Any).await?;
        match f.status {
            200..=299 => {
                let body = sitemap::gunzip_if_needed(f.body.unwrap_or_default())
                    .map_err(|m| failure(format!("sitemap: {m}")))?;
                let (map, error) = sitemap::parse(&body, &current);
                if let Some(e) = error
                    && map.pages.is_empty()
                    && map.sitemaps.is_empty()
                {
                    return Err(failure(format!("sitemap: {e}")));
                }
                return Ok(map);
            }
            300..=399 => match f.location {
                Some(next) => current = next,
                None => return Err(failure("redirect without a Location header".into())),
            },
            s => {
                return Err(Failure {
                    status: Some(s),
                    message: format!("HTTP {s}"),
                    attempts: f.attempts,
                });
            }
        }
    }
    Err(failure(format!(
        "more than {MAX_REDIRECTS} redirects in a row"
    )))
}

/// Fetches, parses and audits one page.
async fn page_task(shared: &Arc<Shared>, item: &Item) -> PageOutcome {
    if !shared.ignore_robots
        && !shared
            .robots
            .get(&shared.fetcher, &shared.agent, &item.url)
            .await
            .allowed(&item.url)
    {
        return PageOutcome::Blocked;
    }
    let f = match shared.fetcher.get(&item.url, Want::Page).await {
        Ok(f) => f,
        Err(e) => return PageOutcome::Failed(e),
    };
    if let Some(w) = shared.warc.get() {
        w.archive(&item.url, &f);
    }
    match f.status {
        300..=399 => match f.location {
            Some(target) => PageOutcome::Redirect(target),
            None => PageOutcome::Failed(Failure {
                status: Some(f.status),
                message: format!("HTTP {} without a Location header", f.status),
                attempts: f.attempts,
            }),
        },
        200..=299 => {
            let Some(bytes) = f.body else {
                return PageOutcome::NotHtml;
            };
            let doc = Document {
                display: item.url.to_string(),
                base: Some(item.url.clone()),
                bytes,
                content_type: f.content_type,
            };
            audit_page(shared, doc, &item.url).await
        }
        s => PageOutcome::Failed(Failure {
            status: Some(s),
            message: format!("HTTP {s}"),
            attempts: f.attempts,
        }),
    }
}

async fn audit_page(shared: &Arc<Shared>, doc: Document, url: &Url) -> PageOutcome {
    // Parsing runs on the runtime's worker threads (one per core): a page takes well under a
    // millisecond, and handing it to a blocking pool cost more in thread wake-ups than it saved.
    if doc.check_html().is_err() {
        return PageOutcome::NotHtml;
    }
    let page = page::parse(&doc, &shared.rules);
    drop(doc);
    // Resolve cloaked same-site links by requesting them without following the redirect.
    let mut links = Vec::new();
    let mut to_probe = Vec::new();
    // Same-site links by their URL as written in the page, normalized, for redirect lookups.
    let mut same_site: Vec<(&str, Url)> = Vec::new();
    for link in &page.links {
        let Some(raw) = &link.url else { continue };
        if !shared.scope.host_in_scope(raw.host_str().unwrap_or("")) {
            continue;
        }
        let Some(u) = normalize(raw) else { continue };
        if shared.rules.is_cloaked_link(&u, page.base.as_ref()) {
            to_probe.push(u.clone());
        } else if !is_not_page(&u) && shared.scope.admits(&u).is_ok() {
            links.push(u.clone());
        }
        same_site.push((raw.as_str(), u));
    }
    for u in &page.rel_next {
        if let Some(u) = normalize(u)
            && shared.scope.admits(&u).is_ok()
        {
            links.push(u);
        }
    }
    // One audit per canonical page; a duplicate's links are still followed.
    let key = page
        .canonical
        .as_ref()
        .and_then(normalize)
        .filter(|c| shared.scope.host_in_scope(c.host_str().unwrap_or("")))
        .unwrap_or_else(|| url.clone())
        .to_string();
    if !shared
        .audited_keys
        .lock()
        .expect("poisoned")
        .insert(key.clone())
    {
        return PageOutcome::Duplicate(links);
    }
    to_probe.sort();
    to_probe.dedup();
    let mut probes = JoinSet::new();
    for u in to_probe {
        let s = shared.clone();
        probes.spawn(async move { s.resolve(&u).await });
    }
    while probes.join_next().await.is_some() {}
    let targets: FxHashMap<&str, Url> = {
        let known = shared.redirects.lock().expect("poisoned");
        if known.is_empty() {
            FxHashMap::default()
        } else {
            same_site
                .iter()
                .filter_map(|(raw, u)| Some((*raw, final_target(&shared.scope, &known, u)?)))
                .collect()
        }
    };
    let report = findings::audit_resolved(&page, &shared.rules, &shared.audit, &|u| {
        if targets.is_empty() {
            None
        } else {
            targets.get(u.as_str()).cloned()
        }
    });
    PageOutcome::Audited { report, links, key }
}

impl Shared {
    fn cell(&self, url: &Url) -> Arc<OnceCell<Option<Url>>> {
        self.locations
            .lock()
            .expect("poisoned")
            .entry(url.to_string())
            .or_default()
            .clone()
    }

    /// Remembers where a same-site URL redirects.
    fn record_redirect(&self, url: &Url, location: Url) {
        self.redirects
            .lock()
            .expect("poisoned")
            .insert(url.to_string(), location);
    }

    fn is_same_site(&self, url: &Url) -> bool {
        self.scope.host_in_scope(url.host_str().unwrap_or(""))
    }

    /// Requests a same-site URL without following redirects, hop by hop, until it leaves the site,
    /// stops redirecting, or the chain gets too long.
    async fn resolve(&self, url: &Url) {
        let mut current = url.clone();
        for _ in 0..MAX_REDIRECTS {
            let cell = self.cell(&current);
            let location = cell
                .get_or_init(|| async {
                    if !self.ignore_robots
                        && !self
                            .robots
                            .get(&self.fetcher, &self.agent, &current)
                            .await
                            .allowed(&current)
                    {
                        return None;
                    }
                    match self.fetcher.get(&current, Want::Head).await {
                        Ok(f) if (300..400).contains(&f.status) => {
                            if let Some(l) = &f.location {
                                self.record_redirect(&current, l.clone());
                            }
                            f.location
                        }
                        _ => None,
                    }
                })
                .await
                .clone();
            match location.and_then(|l| normalize(&l).or(Some(l))) {
                Some(next) if self.is_same_site(&next) => current = next,
                _ => return,
            }
        }
    }
}

/// Where a same-site URL ends up off the site, from the `Location`s known so far, following
/// same-site hops.
fn final_target(scope: &Scope, known: &FxHashMap<String, Url>, url: &Url) -> Option<Url> {
    let mut current = url.clone();
    for _ in 0..MAX_REDIRECTS {
        let next = known.get(current.as_str())?.clone();
        if !scope.host_in_scope(next.host_str().unwrap_or("")) {
            return Some(next);
        }
        current = normalize(&next)?;
    }
    None
}
