//! What one crawl task does: fetch a page (politely, obeying robots.txt), parse it off the async
//! workers, resolve its cloaked links and audit it; or read a sitemap.

use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashSet;
use tokio::sync::Semaphore;
use url::Url;

use super::archive::WarcOut;
use super::frontier::Item;
use super::sitemap;
use crate::audit::Auditor;
use crate::document::{Document, Skip};
use crate::fetch::redirects::{Redirects, get_following};
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
    /// Pages parsed or audited at once: CPU-bound work runs on the blocking pool, never on the
    /// async workers, and no more of it than there are cores.
    pub(super) cpu: Semaphore,
}

impl Shared {
    async fn allowed(&self, url: &Url) -> bool {
        self.ignore_robots
            || self
                .robots
                .get(&self.fetcher, &self.agent, url)
                .await
                .allowed(url)
    }

    /// Runs CPU-bound `work` on the blocking pool, at most one job per core at a time.
    async fn cpu<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Shared) -> T + Send + 'static,
    ) -> T {
        let _permit = self.cpu.acquire().await.expect("semaphore closed");
        let this = self.clone();
        match tokio::task::spawn_blocking(move || work(&this)).await {
            Ok(t) => t,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
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
    let page = match shared.cpu(move |s| s.auditor.parse(&doc)).await {
        Ok(page) => page,
        Err(skip) => return PageOutcome::NotHtml(skip),
    };
    let links = links_to_follow(shared, &page);
    // One audit per canonical page; a duplicate's links are still followed.
    let scope = shared.redirects.scope();
    let key = page
        .canonical
        .as_ref()
        .and_then(normalize)
        .filter(|c| scope.host_in_scope(c.host_str().unwrap_or("")))
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
    // Resolve cloaked same-site links by requesting them without following the redirect.
    let cloaked = shared
        .auditor
        .cloaked_links(&page, |u| shared.redirects.is_same_site(u));
    shared.redirects.probe_all(cloaked).await;
    let report = shared
        .cpu(move |s| s.auditor.audit_page(&page, &*s.redirects))
        .await;
    PageOutcome::Audited { report, links, key }
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
    let (url, f) = get_following(&shared.fetcher, url, Want::Any).await?;
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
