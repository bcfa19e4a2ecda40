//! Site-wide crawls that feed the one audit core: every fetched HTML page goes through the same
//! [`Auditor`] as `affcheck check`, with cloaked links resolved by the same
//! [`Redirects`], and every outcome becomes a
//! [`sink::Event`] for the same sink chain, so a crawl writes every report format.
//!
//! The crawl runs on a Tokio runtime. One loop owns the frontier (`frontier.rs`), the visited set,
//! the `--state` [`journal`] and the sink; tasks (`task.rs`) fetch pages and sitemaps concurrently,
//! parse and audit them on a fixed pool of audit threads (never on the async workers), and hand
//! their outcome back to the loop, which records it in the journal, passes the event on and admits newly found
//! links. Fetching is polite (per-host limits, delays, robots.txt, bounded retries) and redirects
//! are never followed blindly: a page redirect becomes a new frontier entry, and a same-site link
//! that looks like a cloaked affiliate link is requested without following it, so its `Location`
//! can be classified.

mod archive;
mod frontier;
pub mod journal;
mod redirects;
pub mod sitemap;
mod task;

use std::collections::{HashSet, VecDeque};
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use regex::Regex;
use tokio::task::JoinSet;
use url::Url;

use crate::audit::Auditor;
use crate::fetch::redirects::Redirects;
use crate::fetch::robots::{self, RobotsCache};
use crate::fetch::{Failure, FetchConfig, Fetcher};
use crate::scope::{Scope, normalize};
use crate::sink::{self, Event, NotAudited, Sink};
use archive::WarcOut;
use frontier::{Frontier, Item, RedirectGraph};
use journal::Journal;
use task::{PageOutcome, Shared};

/// Sitemaps read at most per crawl (an index pointing at indexes could go on forever).
const MAX_SITEMAPS: usize = 1000;

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
    /// HTTP behaviour. `header_origins` is filled in from the start URLs.
    pub fetch: FetchConfig,
    /// Pages parsed and audited at once (CPU-bound work); the number of CPUs by default.
    pub cpu_threads: usize,
}

/// The crawl's own files; reports are the sink's business.
#[derive(Debug, Clone, Default)]
pub struct CrawlFiles {
    /// The resumable journal (`--state`).
    pub state: Option<PathBuf>,
    /// A WARC file that receives every page response whose body was read (and every page
    /// redirect), gzip-compressed per record when the name ends in `.gz`. A resumed crawl appends
    /// to it.
    pub warc: Option<PathBuf>,
}

/// Why a crawl could not run, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// Nothing to crawl.
    #[error("give at least one start URL or --sitemap")]
    NothingToCrawl,
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
    /// The sink (the reports) could not be written.
    #[error("cannot write the report: {0}")]
    Sink(#[source] io::Error),
    /// The journal could not be read or written.
    #[error(transparent)]
    State(#[from] journal::StateError),
    /// The HTTP client or the runtime could not be set up.
    #[error("{0}")]
    Client(String),
}

/// What the summary needs beyond the sink's counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct CrawlStats {
    /// Pages audited in this run (earlier runs' pages come from the journal).
    pub pages_this_run: usize,
    /// URLs left in the frontier because `--max-pages` was reached.
    pub left_in_frontier: usize,
    /// Wall time of this run.
    pub elapsed: Duration,
}

/// Runs a crawl to the end, handing every event to `sink` in the order pages finish. With
/// `files.state`, the events of earlier runs are replayed into `sink` first.
pub fn crawl(
    mut options: CrawlOptions,
    auditor: Auditor,
    files: &CrawlFiles,
    sink: &mut dyn Sink,
) -> Result<CrawlStats, CrawlError> {
    if options.starts.is_empty() && options.sitemaps.is_empty() {
        return Err(CrawlError::NothingToCrawl);
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
    // Custom headers (credentials) go to the exact origins of the start URLs and their www.
    // twins: not to another port, not over plain http for an https start.
    let mut header_origins = Vec::new();
    for u in &starts {
        header_origins.push(u.origin().ascii_serialization());
        if let Some(h) = u.domain() {
            let twin = match h.strip_prefix("www.") {
                Some(bare) => bare.to_string(),
                None => format!("www.{h}"),
            };
            let mut t = u.clone();
            if t.set_host(Some(&twin)).is_ok() {
                header_origins.push(t.origin().ascii_serialization());
            }
        }
    }
    options.fetch.header_origins = header_origins;
    // The hosts the user named may be internal (a staging server, a test server on loopback);
    // what pages, sitemaps and redirects point to may not (see `fetch::guard`).
    options.fetch.trusted_hosts = scope_urls
        .iter()
        .filter_map(|u| u.host_str().map(str::to_string))
        .collect();
    // The async workers only move bytes (and do TLS); parsing and auditing run on the audit
    // threads, one per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CrawlError::Client(format!("cannot start the async runtime: {e}")))?;
    let agent = robots::agent_token(&options.fetch.user_agent).to_string();
    let fetcher = Arc::new(Fetcher::new(options.fetch.clone()).map_err(CrawlError::Client)?);
    let robots = Arc::new(RobotsCache::default());
    let scope = Scope::new(
        &scope_urls,
        options.subdomains,
        options.include.clone(),
        options.exclude.clone(),
    );
    let robots_for_lookups = (!options.ignore_robots).then(|| (robots.clone(), agent.clone()));
    let shared = Arc::new(Shared {
        redirects: Arc::new(Redirects::new(fetcher.clone(), robots_for_lookups, scope)),
        fetcher,
        robots,
        agent,
        ignore_robots: options.ignore_robots,
        auditor,
        audited_keys: Mutex::default(),
        warc: OnceLock::new(),
        cpu: task::CpuPool::new(options.cpu_threads)
            .map_err(|e| CrawlError::Client(format!("cannot start the audit threads: {e}")))?,
    });
    runtime.block_on(run(options, starts, shared, files, sink))
}

/// The crawl loop's own state.
struct Crawl<'a> {
    options: CrawlOptions,
    shared: Arc<Shared>,
    sink: &'a mut dyn Sink,
    journal: Option<Journal>,
    frontier: Frontier,
    sitemap_queue: VecDeque<Url>,
    sitemaps_seen: HashSet<String>,
    redirects: RedirectGraph,
    /// Path prefixes already named in a note about uncloaked affiliate redirects.
    noted_prefixes: HashSet<String>,
    /// Pages audited, earlier runs included (for `--max-pages`).
    pages: usize,
    pages_this_run: usize,
    pages_in_flight: usize,
    done: usize,
    errors: usize,
    started: Instant,
}

async fn run(
    options: CrawlOptions,
    starts: Vec<Url>,
    shared: Arc<Shared>,
    files: &CrawlFiles,
    sink: &mut dyn Sink,
) -> Result<CrawlStats, CrawlError> {
    let started = Instant::now();
    // Replay what earlier runs recorded: the reports are rebuilt from the journal.
    let mut pages = 0;
    let mut errors = 0;
    let mut replayed_failures = HashSet::new();
    let (journal, resumed) = match &files.state {
        Some(path) => {
            let (j, r) = Journal::open(path, |event| {
                match &event {
                    Event::Audited(_) => pages += 1,
                    Event::Failed(f) => {
                        errors += 1;
                        replayed_failures.insert(f.target.clone());
                    }
                    _ => {}
                }
                sink.event(event)
            })?;
            (Some(j), Some(r))
        }
        None => (None, None),
    };
    let resuming = resumed.as_ref().is_some_and(|r| r.any);
    if let Some(path) = &files.warc {
        let _ = shared.warc.set(WarcOut::open(path, resuming)?);
    }
    let mut crawl = Crawl {
        frontier: Frontier::new(options.max_depth),
        options,
        shared,
        sink,
        journal,
        sitemap_queue: VecDeque::new(),
        sitemaps_seen: HashSet::new(),
        redirects: RedirectGraph::default(),
        noted_prefixes: HashSet::new(),
        pages,
        pages_this_run: 0,
        pages_in_flight: 0,
        done: 0,
        errors,
        started,
    };
    if let Some(r) = resumed {
        crawl.frontier.remember(r.seen);
        crawl.sitemaps_seen = r.sitemaps_done;
        crawl.done = r.finished;
        *crawl.shared.audited_keys.lock().expect("poisoned") = r.audited_keys.into_iter().collect();
        for (url, depth, hops) in r.pending {
            crawl.frontier.requeue(Item {
                url,
                depth,
                hops,
                chain: Vec::new(),
            });
        }
    }
    for url in &starts {
        crawl.admit(url.clone(), 0, 0, Vec::new());
    }
    for url in crawl.options.sitemaps.clone() {
        crawl.queue_sitemap(url);
    }
    if !crawl.shared.ignore_robots {
        crawl.read_robots(&starts, &replayed_failures).await?;
    }
    if let Some(j) = crawl.journal.as_mut() {
        j.flush()?;
    }
    crawl.run_loop().await?;
    Ok(CrawlStats {
        pages_this_run: crawl.pages_this_run,
        left_in_frontier: crawl.frontier.len(),
        elapsed: crawl.started.elapsed(),
    })
}

impl Crawl<'_> {
    /// Reads robots.txt of every start origin before the first page: it may name sitemaps, and an
    /// unreachable one puts the origin off limits, which the user must hear about.
    async fn read_robots(
        &mut self,
        starts: &[Url],
        replayed_failures: &HashSet<String>,
    ) -> Result<(), CrawlError> {
        let mut origins: Vec<Url> = starts.to_vec();
        origins.extend(self.options.sitemaps.iter().cloned());
        let mut done_origins = HashSet::new();
        for u in origins {
            if !done_origins.insert(u.origin().ascii_serialization()) {
                continue;
            }
            let robots = self
                .shared
                .robots
                .get(&self.shared.fetcher, &self.shared.agent, &u)
                .await;
            if let Some(failure) = &robots.failure
                && let Ok(robots_url) = u.join("/robots.txt")
                && !replayed_failures.contains(robots_url.as_str())
            {
                let event = failed(&robots_url, failure);
                if let Some(j) = self.journal.as_mut() {
                    j.event(&event)?;
                }
                self.emit(event)?;
            }
            // Sitemaps are held to the rules of links: a robots.txt naming one on another host
            // (or another address) must not steer the crawl there.
            for s in robots.sitemaps.clone() {
                if matches!(s.scheme(), "http" | "https") {
                    self.queue_sitemap_from(s, "robots.txt")?;
                }
            }
        }
        Ok(())
    }

    fn emit(&mut self, event: Event) -> Result<(), CrawlError> {
        if matches!(event, Event::Failed(_)) {
            self.errors += 1;
        }
        self.sink.event(event).map_err(CrawlError::Sink)
    }

    /// Queues a sitemap that `source` (robots.txt, a sitemap index) names, if it is on the site;
    /// one elsewhere is reported as not read.
    fn queue_sitemap_from(&mut self, url: Url, source: &str) -> Result<(), CrawlError> {
        if self.shared.in_scope(&url) {
            self.queue_sitemap(url);
            return Ok(());
        }
        if !self.sitemaps_seen.insert(url.to_string()) {
            return Ok(());
        }
        self.emit(Event::NotAudited(NotAudited {
            page: url.to_string(),
            reason: format!(
                "sitemap named by {source} is outside the crawl scope; not read (give it with --sitemap to read it)"
            ),
            key: "sitemaps outside the scope".into(),
            skipped: false,
        }))
    }

    fn queue_sitemap(&mut self, url: Url) {
        if self.sitemaps_seen.len() < MAX_SITEMAPS && self.sitemaps_seen.insert(url.to_string()) {
            self.sitemap_queue.push_back(url);
        }
    }

    /// Adds a URL to the frontier (and the journal) unless it was seen before or is too deep.
    fn admit(&mut self, url: Url, depth: u32, hops: u32, chain: Vec<String>) {
        let item = Item {
            url,
            depth,
            hops,
            chain,
        };
        let (url, depth, hops) = (item.url.clone(), item.depth, item.hops);
        if self.frontier.admit(item)
            && let Some(j) = self.journal.as_mut()
        {
            j.queued(&url, depth, hops);
        }
    }

    /// Whether another page fetch may start under `--max-pages`.
    fn page_budget(&self) -> bool {
        self.options.max_pages == 0 || self.pages + self.pages_in_flight < self.options.max_pages
    }

    async fn run_loop(&mut self) -> Result<(), CrawlError> {
        enum Done {
            Page(Item, PageOutcome),
            Sitemap(Url, Result<sitemap::Sitemap, Failure>),
        }
        let mut tasks: JoinSet<Done> = JoinSet::new();
        let max_tasks = (self.options.fetch.concurrency * 2).max(4);
        let mut last_progress = Instant::now();
        loop {
            while tasks.len() < max_tasks {
                if let Some(url) = self.sitemap_queue.pop_front() {
                    let shared = self.shared.clone();
                    tasks.spawn(async move {
                        let result = task::fetch_sitemap(&shared, &url).await;
                        Done::Sitemap(url, result)
                    });
                } else if self.page_budget()
                    && let Some(item) = self.frontier.pop()
                {
                    self.pages_in_flight += 1;
                    let shared = self.shared.clone();
                    tasks.spawn(async move {
                        let outcome = task::page_task(&shared, &item).await;
                        Done::Page(item, outcome)
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
                Done::Page(item, outcome) => {
                    self.pages_in_flight -= 1;
                    self.finish_page(item, outcome)?;
                }
                Done::Sitemap(url, result) => self.finish_sitemap(url, result)?,
            }
            if last_progress.elapsed() >= Duration::from_millis(100) || tasks.is_empty() {
                last_progress = Instant::now();
                let p = sink::Progress {
                    pages: self.pages,
                    done: self.done,
                    queued: self.frontier.len() + tasks.len(),
                    errors: self.errors,
                    elapsed_ms: self.started.elapsed().as_millis() as u64,
                };
                self.emit(Event::Progress(p))?;
            }
        }
        Ok(())
    }

    fn finish_sitemap(
        &mut self,
        url: Url,
        result: Result<sitemap::Sitemap, Failure>,
    ) -> Result<(), CrawlError> {
        let mut event = None;
        match result {
            Ok(map) => {
                for page in map.pages {
                    if let Some(page) = normalize(&page)
                        && self.shared.redirects.scope().admits(&page).is_ok()
                        && !task::is_not_page(&page)
                    {
                        self.admit(page, 0, 0, Vec::new());
                    }
                }
                for s in map.sitemaps {
                    self.queue_sitemap_from(s, &format!("the sitemap index {url}"))?;
                }
            }
            Err(failure) => event = Some(failed(&url, &failure)),
        }
        // Done either way: a resumed crawl neither reads it again nor repeats its error.
        if let Some(j) = self.journal.as_mut() {
            j.sitemap_done(&url, event.as_ref())?;
        }
        match event {
            Some(e) => self.emit(e),
            None => Ok(()),
        }
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
        let mut key = None;
        let not_audited = |reason: String, key: &str, skipped: bool| {
            Some(Event::NotAudited(NotAudited {
                page: item.url.to_string(),
                reason,
                key: key.to_string(),
                skipped,
            }))
        };
        let event = match outcome {
            PageOutcome::Audited {
                report,
                links,
                key: k,
            } => {
                self.pages += 1;
                self.pages_this_run += 1;
                key = Some(k);
                for link in links {
                    self.admit(link, item.depth + 1, 0, Vec::new());
                }
                Some(Event::Audited(report))
            }
            PageOutcome::Redirect(target) => self.redirect(&item, target),
            PageOutcome::Duplicate(links) => {
                for link in links {
                    self.admit(link, item.depth + 1, 0, Vec::new());
                }
                not_audited(
                    "its canonical URL was audited already".into(),
                    "duplicates by canonical URL",
                    false,
                )
            }
            PageOutcome::NotHtml(skip) => not_audited(skip.to_string(), skip.key(), true),
            PageOutcome::Blocked => not_audited(
                "disallowed by robots.txt".into(),
                "blocked by robots.txt",
                false,
            ),
            PageOutcome::Failed(f) => Some(failed(&item.url, &f)),
        };
        if let Some(j) = self.journal.as_mut() {
            j.done(&item.url, key.as_deref(), event.as_ref())?;
        }
        match event {
            Some(e) => self.emit(e),
            None => Ok(()),
        }
    }
}

fn failure(message: String) -> Failure {
    Failure {
        status: None,
        message,
        attempts: 1,
    }
}

/// The event of a URL that finally failed.
fn failed(url: &Url, f: &Failure) -> Event {
    Event::Failed(sink::Failure {
        target: url.to_string(),
        message: f.message.clone(),
        status: f.status,
        attempts: f.attempts,
    })
}
