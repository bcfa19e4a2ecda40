//! What one crawl task does: fetch a page (politely, obeying robots.txt), parse it off the async
//! workers (on a fixed pool of audit threads), resolve its cloaked links and audit it; or read a
//! sitemap.

use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashSet;
use url::Url;

use super::archive::WarcOut;
use super::frontier::Item;
use super::sitemap;
use crate::audit::Auditor;
use crate::document::{Document, Skip};
use crate::fetch::redirects::{Redirects, get_following_checked};
use crate::fetch::robots::RobotsCache;
use crate::fetch::{Failure, Fetcher, Want};
use crate::findings::PageReport;
use crate::page::Page;
use crate::scope::normalize;

/// File extensions that are never HTML pages; links to them are not fetched.
const NOT_PAGES: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff", "pdf", "zip",
    "gz", "tgz", "rar", "7z", "mp3", "mp4", "m4a", "webm", "mov", "avi", "wav", "ogg", "css", "js",
    "mjs", "json", "woff", "woff2", "ttf", "otf", "eot", "exe", "dmg", "apk", "iso",
];

/// Whether the URL's file extension says it is not a page.
pub(super) fn is_not_page(url: &Url) -> bool {
    let last = url.path().rsplit('/').next().unwrap_or("");
    match last.rsplit_once('.') {
        Some((_, ext)) => NOT_PAGES.iter().any(|e| ext.eq_ignore_ascii_case(e)),
        None => false,
    }
}

/// State shared by the crawl tasks.
pub(super) struct Shared {
    pub(super) fetcher: Arc<Fetcher>,
    pub(super) robots: Arc<RobotsCache>,
    pub(super) agent: String,
    pub(super) ignore_robots: bool,
    pub(super) auditor: Auditor,
    /// Where same-site cloaked links lead; its scope is the crawl's.
    pub(super) redirects: Arc<Redirects>,
    pub(super) audited_keys: Mutex<FxHashSet<String>>,
    /// The `--warc` output, opened once the crawl knows whether it resumes.
    pub(super) warc: OnceLock<WarcOut>,
    /// Where CPU-bound work (parsing, auditing) runs: never on the async workers.
    pub(super) cpu: CpuPool,
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads for CPU-bound work, one per core. Fixed rather than Tokio's blocking
/// pool: the wording engine keeps a per-thread cache of repeated blocks (menus, footers), which a
/// pool that starts new threads keeps cold; measured on the 10,000-page benchmark crawl, the
/// blocking pool took 10.7-14.4 s and 163-211 MB against 7.1-7.6 s and 84 MB of parsing on the
/// runtime's workers.
pub(super) struct CpuPool {
    jobs: crossbeam_channel::Sender<Job>,
}

impl CpuPool {
    /// Starts `threads` workers; they end when the pool is dropped.
    pub(super) fn new(threads: usize) -> std::io::Result<CpuPool> {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("affcheck-audit-{i}"))
                .spawn(move || {
                    for job in rx {
                        job();
                    }
                })?;
        }
        Ok(CpuPool { jobs: tx })
    }

    /// Runs `work` on a pool thread and waits for its result without blocking the runtime.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = tx.send(result);
        });
        self.jobs
            .send(job)
            .expect("the audit threads live as long as the crawl");
        match rx.await.expect("an audit thread answers every job") {
            Ok(t) => t,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Shared {
    /// Whether `url` is on the crawled site (its host; the page filters do not apply).
    pub(super) fn in_scope(&self, url: &Url) -> bool {
        url.host_str()
            .is_some_and(|h| self.redirects.scope().host_in_scope(h))
    }

    async fn allowed(&self, url: &Url) -> bool {
        self.ignore_robots
            || self
                .robots
                .get(&self.fetcher, &self.agent, url)
                .await
                .allowed(url)
    }

    /// Runs CPU-bound `work` on the audit threads.
    async fn cpu<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Shared) -> T + Send + 'static,
    ) -> T {
        let this = self.clone();
        self.cpu.run(move || work(&this)).await
    }
}

/// How a page task ended.
pub(super) enum PageOutcome {
    Audited {
        report: PageReport,
        links: Vec<Url>,
        key: String,
    },
    /// The page's canonical URL was audited already; its links are still followed.
    Duplicate(Vec<Url>),
    Redirect(Url),
    NotHtml(Skip),
    Blocked,
    Failed(Failure),
}

/// Fetches, parses and audits one page.
pub(super) async fn page_task(shared: &Arc<Shared>, item: &Item) -> PageOutcome {
    if !shared.allowed(&item.url).await {
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
            let doc = Document {
                display: item.url.to_string(),
                base: Some(item.url.clone()),
                bytes: f.body.unwrap_or_default(),
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
    let url = url.clone();
    // One trip to the audit threads for most pages: parse, pick the links, and audit right away
    // unless cloaked links must be requested first.
    let parsed = shared
        .cpu(move |s| {
            let page = match s.auditor.parse(&doc) {
                Ok(page) => page,
                Err(skip) => return Parsed::Done(PageOutcome::NotHtml(skip)),
            };
            drop(doc);
            let links = links_to_follow(s, &page);
            let key = canonical_key(s, &page, &url);
            // One audit per canonical page; a duplicate's links are still followed.
            if !s.audited_keys.lock().expect("poisoned").insert(key.clone()) {
                return Parsed::Done(PageOutcome::Duplicate(links));
            }
            let cloaked = s
                .auditor
                .cloaked_links(&page, |u| s.redirects.is_same_site(u));
            if cloaked.is_empty() {
                let report = s.auditor.audit_page(&page, &*s.redirects);
                return Parsed::Done(PageOutcome::Audited { report, links, key });
            }
            Parsed::Probe {
                page: Box::new(page),
                cloaked,
                links,
                key,
            }
        })
        .await;
    match parsed {
        Parsed::Done(outcome) => outcome,
        Parsed::Probe {
            page,
            cloaked,
            links,
            key,
        } => {
            // Resolve cloaked same-site links by requesting them without following the redirect.
            shared.redirects.probe_all(cloaked).await;
            let report = shared
                .cpu(move |s| s.auditor.audit_page(&page, &*s.redirects))
                .await;
            PageOutcome::Audited { report, links, key }
        }
    }
}

/// A parsed page: finished, or waiting for its cloaked links to be requested.
enum Parsed {
    Done(PageOutcome),
    Probe {
        page: Box<Page>,
        cloaked: Vec<Url>,
        links: Vec<Url>,
        key: String,
    },
}

/// The key a page is audited under: its canonical URL when that is on the site, else its URL.
fn canonical_key(shared: &Shared, page: &Page, url: &Url) -> String {
    let scope = shared.redirects.scope();
    page.canonical
        .as_ref()
        .and_then(normalize)
        .filter(|c| scope.host_in_scope(c.host_str().unwrap_or("")))
        .unwrap_or_else(|| url.clone())
        .to_string()
}

/// The same-site links of a page worth crawling: in scope, not cloaked, not files; and
/// `rel="next"`.
fn links_to_follow(shared: &Shared, page: &Page) -> Vec<Url> {
    let scope = shared.redirects.scope();
    let rules = shared.auditor.rules();
    let mut links = Vec::new();
    for raw in page.links.iter().filter_map(|l| l.url.as_ref()) {
        if !scope.host_in_scope(raw.host_str().unwrap_or("")) {
            continue;
        }
        let Some(u) = normalize(raw) else { continue };
        if !rules.is_cloaked_link(&u, page.base.as_ref())
            && !is_not_page(&u)
            && scope.admits(&u).is_ok()
        {
            links.push(u);
        }
    }
    for u in &page.rel_next {
        if let Some(u) = normalize(u)
            && scope.admits(&u).is_ok()
        {
            links.push(u);
        }
    }
    links
}

/// Reads a sitemap (plain or gzip, following redirects).
pub(super) async fn fetch_sitemap(shared: &Shared, url: &Url) -> Result<sitemap::Sitemap, Failure> {
    let failure = |message: String| Failure {
        status: None,
        message,
        attempts: 1,
    };
    if !shared.allowed(url).await {
        return Err(failure("sitemap disallowed by robots.txt".into()));
    }
    // A sitemap redirect is held to the rules of a link: same site, allowed by robots.txt.
    let hop = |next: Url| async move {
        if !shared.in_scope(&next) {
            Err("outside the crawl scope".to_string())
        } else if !shared.allowed(&next).await {
            Err("disallowed by robots.txt".to_string())
        } else {
            Ok(())
        }
    };
    let (url, f) = get_following_checked(&shared.fetcher, url, Want::Any, hop).await?;
    match f.status {
        200..=299 => {
            let body = sitemap::gunzip_if_needed(f.body.unwrap_or_default())
                .map_err(|m| failure(format!("sitemap: {m}")))?;
            let (map, error) = sitemap::parse(&body, &url);
            if let Some(e) = error
                && map.pages.is_empty()
                && map.sitemaps.is_empty()
            {
                return Err(failure(format!("sitemap: {e}")));
            }
            Ok(map)
        }
        s => Err(Failure {
            status: Some(s),
            message: format!("HTTP {s}"),
            attempts: f.attempts,
        }),
    }
}
