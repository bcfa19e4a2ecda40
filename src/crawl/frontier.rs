//! The frontier: URLs waiting to be crawled, in admission order (breadth first), each admitted at
//! most once per crawl; and the redirect graph that tells a redirect loop from a long chain.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};
use url::Url;

use crate::fetch::redirects::MAX_REDIRECTS;

/// One frontier entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The normalized URL.
    pub url: Url,
    /// Link steps from a start URL or sitemap entry.
    pub depth: u32,
    /// Redirects in a row that led here.
    pub hops: u32,
    /// URLs that redirected here, to detect loops.
    pub chain: Vec<String>,
}

impl Item {
    /// " (redirect chain from URL)" when the item was reached by redirects.
    pub fn origin(&self) -> String {
        self.chain
            .first()
            .map(|first| format!(" (redirect chain from {first})"))
            .unwrap_or_default()
    }
}

/// URLs waiting, and every URL ever admitted.
#[derive(Debug, Default)]
pub struct Frontier {
    queue: VecDeque<Item>,
    seen: FxHashSet<String>,
    max_depth: Option<u32>,
}

impl Frontier {
    /// An empty frontier that admits links at most `max_depth` steps deep.
    pub fn new(max_depth: Option<u32>) -> Self {
        Frontier {
            max_depth,
            ..Frontier::default()
        }
    }

    /// Marks URLs as admitted in an earlier run (a resumed crawl).
    pub fn remember(&mut self, seen: impl IntoIterator<Item = String>) {
        self.seen.extend(seen);
    }

    /// Queues an item an earlier run admitted but did not finish.
    pub fn requeue(&mut self, item: Item) {
        self.seen.insert(item.url.to_string());
        self.queue.push_back(item);
    }

    /// Admits `item` unless its URL was admitted before or it is deeper than `--max-depth`
    /// (redirect targets keep the depth of the URL that redirected). Returns whether it was.
    pub fn admit(&mut self, item: Item) -> bool {
        if self.max_depth.is_some_and(|max| item.depth > max) {
            return false;
        }
        if !self.seen.insert(item.url.to_string()) {
            return false;
        }
        self.queue.push_back(item);
        true
    }

    /// The next URL to crawl.
    pub fn pop(&mut self) -> Option<Item> {
        self.queue.pop_front()
    }

    /// URLs waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }
}

/// Same-site redirects seen so far (from → to), across frontier entries.
#[derive(Debug, Default)]
pub struct RedirectGraph {
    edges: FxHashMap<String, String>,
}

impl RedirectGraph {
    /// Records a redirect of `item` to `target`, and says whether it closes a loop: the target
    /// is the item itself, a URL of its chain, or leads back to it by known redirects.
    pub fn record(&mut self, item: &Item, target: &Url) -> bool {
        self.edges.insert(item.url.to_string(), target.to_string());
        *target == item.url
            || item.chain.iter().any(|c| c == target.as_str())
            || self.leads_to(target, &item.url)
    }

    /// Whether following known redirects from `from` reaches `to`.
    fn leads_to(&self, from: &Url, to: &Url) -> bool {
        let mut current = from.as_str();
        for _ in 0..=MAX_REDIRECTS {
            if current == to.as_str() {
                return true;
            }
            match self.edges.get(current) {
                Some(next) => current = next,
                None => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(url: &str, depth: u32) -> Item {
        Item {
            url: Url::parse(url).unwrap(),
            depth,
            hops: 0,
            chain: Vec::new(),
        }
    }

    #[test]
    fn urls_are_admitted_once_in_order_and_not_beyond_max_depth() {
        let mut f = Frontier::new(Some(1));
        assert!(f.admit(item("https://b.example/", 0)));
        assert!(f.admit(item("https://b.example/a", 1)));
        assert!(!f.admit(item("https://b.example/a", 1)), "seen before");
        assert!(!f.admit(item("https://b.example/deep", 2)), "too deep");
        assert_eq!(f.len(), 2);
        assert_eq!(f.pop().unwrap().url.path(), "/");
        assert_eq!(f.pop().unwrap().url.path(), "/a");
        assert!(f.pop().is_none() && f.len() == 0);
        // Popped URLs stay seen.
        assert!(!f.admit(item("https://b.example/", 0)));
    }

    #[test]
    fn a_resumed_frontier_does_not_admit_what_an_earlier_run_saw() {
        let mut f = Frontier::new(None);
        f.remember(["https://b.example/done".to_string()]);
        f.requeue(item("https://b.example/pending", 3));
        assert!(!f.admit(item("https://b.example/done", 1)));
        assert!(!f.admit(item("https://b.example/pending", 1)));
        assert_eq!(f.pop().unwrap().depth, 3);
    }

    #[test]
    fn loops_are_found_across_entries_and_chains() {
        let mut g = RedirectGraph::default();
        let a = item("https://b.example/a", 0);
        let b = item("https://b.example/b", 0);
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(!g.record(&a, &url("https://b.example/b")));
        // /b → /a closes the loop a → b → a, although /b was reached as its own entry.
        assert!(g.record(&b, &url("https://b.example/a")));
        // A chain that passes a URL again is a loop too.
        let mut c = item("https://b.example/c", 0);
        c.chain = vec!["https://b.example/x".into()];
        assert!(g.record(&c, &url("https://b.example/x")));
        // A self-redirect.
        let d = item("https://b.example/d", 0);
        assert!(g.record(&d, &url("https://b.example/d")));
        let e = item("https://b.example/e", 0);
        assert!(!g.record(&e, &url("https://b.example/f")));
    }
}
