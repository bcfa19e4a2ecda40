//! What the crawl does with a page that redirects: a same-site target joins the frontier (unless
//! the chain loops or runs too long), and a same-site URL outside the cloaking prefixes that leads
//! to an affiliate URL earns the user a note.

use url::Url;

use super::frontier::Item;
use super::{Crawl, failed, failure};
use crate::fetch::redirects::MAX_REDIRECTS;
use crate::scope::normalize;
use crate::sink::{Event, NotAudited};

impl Crawl<'_> {
    /// A page redirected: a same-site target joins the frontier (unless that closes a loop or the
    /// chain is too long); the event says what became of the URL.
    pub(super) fn redirect(&mut self, item: &Item, target: Url) -> Option<Event> {
        let scope = self.shared.redirects.scope();
        let same_site = scope.host_in_scope(target.host_str().unwrap_or(""));
        if !same_site {
            self.note_uncloaked_redirect(&item.url, &target);
        }
        if let Some(next) = normalize(&target)
            && same_site
        {
            if self.redirects.record(item, &next) {
                let message = format!("redirect loop back to {next}{}", item.origin());
                return Some(failed(&item.url, &failure(message)));
            }
            if item.hops + 1 > MAX_REDIRECTS {
                let message = format!(
                    "more than {MAX_REDIRECTS} redirects in a row{}",
                    item.origin()
                );
                return Some(failed(&item.url, &failure(message)));
            }
            if self.shared.redirects.scope().admits(&next).is_ok() {
                let mut chain = item.chain.clone();
                chain.push(item.url.to_string());
                self.admit(next, item.depth, item.hops + 1, chain);
            }
        }
        Some(Event::NotAudited(NotAudited {
            page: item.url.to_string(),
            reason: format!("redirects to {target}"),
            key: "redirects".into(),
            skipped: false,
        }))
    }

    /// A same-site URL outside the cloaking prefixes redirected to an affiliate URL. Links to it
    /// are not classified by that redirect (verdicts must not depend on which page the crawl met
    /// first), so tell the user once per prefix how to make them count.
    fn note_uncloaked_redirect(&mut self, url: &Url, target: &Url) {
        let rules = self.shared.auditor.rules();
        if rules.is_cloaked_link(url, Some(url)) {
            return;
        }
        let Some(class) = rules.classify_link(target, Some(url), false) else {
            return;
        };
        let prefix = match url.path_segments().and_then(|mut s| s.next()) {
            Some(first) if !first.is_empty() && url.path().len() > first.len() + 1 => {
                format!("/{first}/")
            }
            _ => return,
        };
        if self.noted_prefixes.insert(prefix.clone()) {
            let note = format!(
                "{url} redirects to an affiliate link ({}, {target}); links to it are not \
                 audited as affiliate links: add \"{prefix}\" to the cloaking prefixes \
                 ([[rules.cloaking]] in affcheck.toml, or a --rules file) if the site uses it for \
                 affiliate redirects",
                class.network
            );
            // A note is not a result: it is not journalled, and a resumed crawl may repeat it.
            let _ = self.sink.event(Event::Note(note));
        }
    }
}
