//! Reading URL targets: the one fetch layer of [`crate::fetch`] on a runtime of its own, pages
//! fetched with redirects followed, and their same-site cloaked links resolved by the same
//! [`Redirects`] as the crawl's, one per site and shared by the pages of a run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use url::Url;

use super::{InputError, Reader};
use crate::audit::{Auditor, Resolve};
use crate::document::{Document, Skip};
use crate::fetch::redirects::{Redirects, get_following};
use crate::fetch::robots::{self, RobotsCache};
use crate::fetch::{FetchConfig, Fetcher, Want};
use crate::findings::{Explanation, PageReport};
use crate::page::Page;
use crate::scope::Scope;

/// What reading URLs needs: an async runtime, the fetcher, robots.txt rules for cloaked-link
/// lookups, and one redirect resolver per site, shared by the pages of a run.
pub(super) struct Web {
    runtime: tokio::runtime::Runtime,
    fetcher: Arc<Fetcher>,
    robots: Arc<RobotsCache>,
    agent: String,
    sites: Mutex<HashMap<String, Arc<Redirects>>>,
}

impl Reader {
    /// Fetches a page (following redirects, at most ten) and audits it as the crawl does: its
    /// same-site cloaked links are requested without following them, so they are classified by
    /// where they lead. The page is reported under `url`, its links resolve against the final URL.
    /// `Ok(Err(…))` is a response that is not an HTML page.
    pub fn read_url(
        &self,
        url: &Url,
        auditor: &Auditor,
    ) -> Result<Result<PageReport, (String, Skip)>, InputError> {
        self.read_url_with(url, auditor, Auditor::parse, |page, resolve| {
            auditor.audit_page(page, resolve)
        })
    }

    /// Fetches a page as [`Reader::read_url`] does and explains every verdict on it.
    pub fn explain_url(
        &self,
        url: &Url,
        auditor: &Auditor,
    ) -> Result<Result<Explanation, (String, Skip)>, InputError> {
        self.read_url_with(url, auditor, Auditor::parse_with_lines, |page, resolve| {
            auditor.explain_page(page, resolve)
        })
    }

    /// Fetches `url`, parses it with `parse` and, once its cloaked links are resolved, hands the
    /// page to `finish`.
    fn read_url_with<T>(
        &self,
        url: &Url,
        auditor: &Auditor,
        parse: fn(&Auditor, &Document) -> Result<Page, Skip>,
        finish: impl FnOnce(&Page, &dyn Resolve) -> T,
    ) -> Result<Result<T, (String, Skip)>, InputError> {
        let target = url.to_string();
        let web = self
            .web
            .get_or_init(|| Web::new(&self.fetch))
            .as_ref()
            .map_err(|message| InputError::Fetch {
                target: target.clone(),
                message: message.clone(),
            })?;
        web.runtime.block_on(async {
            let (final_url, f) =
                get_following(&web.fetcher, url, Want::Page)
                    .await
                    .map_err(|e| match e.status {
                        Some(status) => InputError::Status {
                            target: target.clone(),
                            status,
                        },
                        None if crate::fetch::guard::is_refusal(&e.message) => {
                            InputError::Refused {
                                target: target.clone(),
                                message: e.message,
                            }
                        }
                        None => InputError::Fetch {
                            target: target.clone(),
                            message: e.message,
                        },
                    })?;
            if !(200..300).contains(&f.status) {
                return Err(InputError::Status {
                    target,
                    status: f.status,
                });
            }
            let doc = Document {
                display: target,
                base: Some(final_url.clone()),
                bytes: f.body.unwrap_or_default(),
                content_type: f.content_type,
            };
            // Parsing runs on this (pipeline worker) thread, not on the runtime's.
            let page = match parse(auditor, &doc) {
                Ok(page) => page,
                Err(skip) => return Ok(Err((doc.display, skip))),
            };
            drop(doc);
            let redirects = web.site(url, &final_url);
            let cloaked = auditor.cloaked_links(&page, |u| redirects.is_same_site(u));
            redirects.probe_all(cloaked).await;
            Ok(Ok(finish(&page, &*redirects)))
        })
    }
}

impl Web {
    pub(super) fn new(config: &FetchConfig) -> Result<Web, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let fetcher = Fetcher::new(config.clone())?;
        Ok(Web {
            runtime,
            fetcher: Arc::new(fetcher),
            robots: Arc::default(),
            agent: robots::agent_token(&config.user_agent).to_string(),
            sites: Mutex::default(),
        })
    }

    /// The resolver of the site `url` is on (its host and www. twin, and those of the final URL
    /// after redirects), shared by every page of that site in this run.
    fn site(&self, url: &Url, final_url: &Url) -> Arc<Redirects> {
        let host = |u: &Url| {
            u.host_str()
                .unwrap_or("")
                .trim_start_matches("www.")
                .to_string()
        };
        let key = format!("{} {}", host(url), host(final_url));
        self.sites
            .lock()
            .expect("poisoned")
            .entry(key)
            .or_insert_with(|| {
                let scope = Scope::new(&[url.clone(), final_url.clone()], false, vec![], vec![]);
                Arc::new(Redirects::new(
                    self.fetcher.clone(),
                    Some((self.robots.clone(), self.agent.clone())),
                    scope,
                ))
            })
            .clone()
    }
}
