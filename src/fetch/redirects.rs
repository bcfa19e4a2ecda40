//! Where same-site cloaked links lead: each is requested without following its redirect, hop by
//! hop, until the chain leaves the site. Shared by `check URL` and the crawl, so a page gets the
//! same verdict from both.

use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use tokio::sync::OnceCell;
use tokio::task::JoinSet;
use url::Url;

use super::robots::RobotsCache;
use super::{Failure, Fetched, Fetcher, Want};
use crate::audit::Resolve;
use crate::scope::{Scope, normalize};

/// Redirect chains longer than this are reported as errors (pages) or left unresolved (links).
pub const MAX_REDIRECTS: u32 = 10;

/// Learns and remembers where same-site URLs redirect.
pub struct Redirects {
    fetcher: Arc<Fetcher>,
    /// robots.txt is obeyed for lookups unless `None` (`--ignore-robots`).
    robots: Option<(Arc<RobotsCache>, String)>,
    scope: Scope,
    /// The raw `Location` (or `None`: no redirect) of every URL requested so far.
    locations: Mutex<FxHashMap<String, Arc<OnceCell<Option<Url>>>>>,
    /// Same-site URLs known to redirect, and where to.
    known: Mutex<FxHashMap<String, Url>>,
}

impl Redirects {
    /// Resolves links of the site `scope` describes, requesting them with `fetcher`; `robots`
    /// (the cache and our agent token) is obeyed when given.
    pub fn new(
        fetcher: Arc<Fetcher>,
        robots: Option<(Arc<RobotsCache>, String)>,
        scope: Scope,
    ) -> Self {
        Redirects {
            fetcher,
            robots,
            scope,
            locations: Mutex::default(),
            known: Mutex::default(),
        }
    }

    /// The site's scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Whether `url` is on the site.
    pub fn is_same_site(&self, url: &Url) -> bool {
        self.scope.host_in_scope(url.host_str().unwrap_or(""))
    }

    /// Remembers that a same-site URL redirects to `location`.
    fn record(&self, url: &Url, location: Url) {
        self.known
            .lock()
            .expect("poisoned")
            .insert(url.to_string(), location);
    }

    /// Requests every URL of `urls` (concurrently), hop by hop, until each leaves the site, stops
    /// redirecting, or the chain gets too long. Each URL is requested at most once per run.
    pub async fn probe_all(self: &Arc<Self>, urls: Vec<Url>) {
        let mut probes = JoinSet::new();
        for u in urls {
            let this = self.clone();
            probes.spawn(async move { this.probe(&u).await });
        }
        while probes.join_next().await.is_some() {}
    }

    /// Follows one URL's redirects, hop by hop, on the site.
    pub async fn probe(&self, url: &Url) {
        let mut current = url.clone();
        for _ in 0..MAX_REDIRECTS {
            let cell = self.cell(&current);
            let location = cell.get_or_init(|| self.lookup(&current)).await.clone();
            match location.and_then(|l| normalize(&l).or(Some(l))) {
                Some(next) if self.is_same_site(&next) => current = next,
                _ => return,
            }
        }
    }

    async fn lookup(&self, url: &Url) -> Option<Url> {
        if let Some((robots, agent)) = &self.robots
            && !robots.get(&self.fetcher, agent, url).await.allowed(url)
        {
            return None;
        }
        match self.fetcher.get(url, Want::Head).await {
            Ok(f) if (300..400).contains(&f.status) => {
                if let Some(l) = &f.location {
                    self.record(url, l.clone());
                }
                f.location
            }
            _ => None,
        }
    }

    fn cell(&self, url: &Url) -> Arc<OnceCell<Option<Url>>> {
        self.locations
            .lock()
            .expect("poisoned")
            .entry(url.to_string())
            .or_default()
            .clone()
    }

    /// Where a same-site URL ends up off the site, from the redirects known so far.
    pub fn final_target(&self, url: &Url) -> Option<Url> {
        let known = self.known.lock().expect("poisoned");
        final_target(&self.scope, &known, url)
    }
}

impl Resolve for Redirects {
    fn destination(&self, link: &Url) -> Option<Url> {
        if !self.is_same_site(link) {
            return None;
        }
        self.final_target(&normalize(link)?)
    }
}

/// Where a same-site URL ends up off the site, following known same-site hops.
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

/// Fetches `url`, following redirects anywhere, at most [`MAX_REDIRECTS`] of them, and returns the
/// final URL with its response. A chain that comes back to a URL it passed is a loop.
pub async fn get_following(
    fetcher: &Fetcher,
    url: &Url,
    want: Want,
) -> Result<(Url, Fetched), Failure> {
    get_following_checked(fetcher, url, want, |_| std::future::ready(Ok(()))).await
}

/// [`get_following`], asking `check` before each redirect hop is fetched: an `Err` names why the
/// hop may not be fetched (outside the crawl scope, disallowed by robots.txt) and ends the chain.
pub async fn get_following_checked<F, Fut>(
    fetcher: &Fetcher,
    url: &Url,
    want: Want,
    check: F,
) -> Result<(Url, Fetched), Failure>
where
    F: Fn(Url) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let failure = |message: String| Failure {
        status: None,
        message,
        attempts: 1,
    };
    let mut current = url.clone();
    let mut chain = vec![url.to_string()];
    for _ in 0..=MAX_REDIRECTS {
        let f = match fetcher.get(&current, want).await {
            Ok(f) => f,
            Err(mut e) if chain.len() > 1 => {
                e.message = format!("redirected to {current}: {}", e.message);
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if !(300..400).contains(&f.status) {
            return Ok((current, f));
        }
        let Some(next) = f.location else {
            return Err(Failure {
                status: Some(f.status),
                message: format!("HTTP {} without a Location header", f.status),
                attempts: f.attempts,
            });
        };
        if chain.iter().any(|c| c == next.as_str()) {
            return Err(failure(format!("redirect loop back to {next}")));
        }
        check(next.clone())
            .await
            .map_err(|why| failure(format!("redirects to {next}, {why}")))?;
        chain.push(next.to_string());
        current = next;
    }
    Err(failure(format!(
        "more than {MAX_REDIRECTS} redirects in a row"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn final_target_follows_same_site_hops_to_the_first_off_site_url() {
        let scope = Scope::new(&[u("https://b.example/")], false, vec![], vec![]);
        let mut known = FxHashMap::default();
        known.insert(
            "https://b.example/go/a".into(),
            u("https://www.b.example/out/a"),
        );
        known.insert("https://www.b.example/out/a".into(), u("https://amzn.to/x"));
        assert_eq!(
            final_target(&scope, &known, &u("https://b.example/go/a")),
            Some(u("https://amzn.to/x"))
        );
        // A same-site hop with nothing known after it has no answer yet.
        known.insert("https://b.example/go/b".into(), u("https://b.example/go/c"));
        assert_eq!(
            final_target(&scope, &known, &u("https://b.example/go/b")),
            None
        );
    }

    #[test]
    fn a_same_site_loop_has_no_destination() {
        let scope = Scope::new(&[u("https://b.example/")], false, vec![], vec![]);
        let mut known = FxHashMap::default();
        known.insert("https://b.example/go/a".into(), u("https://b.example/go/b"));
        known.insert("https://b.example/go/b".into(), u("https://b.example/go/a"));
        assert_eq!(
            final_target(&scope, &known, &u("https://b.example/go/a")),
            None
        );
    }
}
