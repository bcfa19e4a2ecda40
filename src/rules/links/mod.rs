//! Link and script classification compiled from the `network`, `cloaking` and `script` sections.
//!
//! `hosts` holds host patterns and the index that finds the networks a host can match,
//! `networks` the compiled `[[network]]` entries, `scripts` the compiled `[[script]]` entries; this
//! file classifies a link with them and recognises cloaked same-site links.

mod hosts;
mod networks;
mod scripts;

use std::sync::Arc;

use regex::Regex;
use url::Url;

use super::Ruleset;

pub use hosts::HostPattern;
pub(super) use hosts::NetworkIndex;
pub(super) use networks::CompiledNetwork;
pub(super) use scripts::CompiledScript;

/// Compiles an optional regular expression of a rules entry; `what` names the key in errors.
fn compile_regex(what: &str, pattern: &Option<String>) -> Result<Option<Regex>, String> {
    pattern
        .as_deref()
        .map(|p| {
            Regex::new(p).map_err(|e| format!("{what} is not a valid regular expression: {e}"))
        })
        .transpose()
}

/// Why a link counts as an affiliate (or otherwise paid) link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Matches an affiliate network's URL shape.
    Network,
    /// A same-site link under a cloaking prefix such as `/go/`.
    Cloaked,
    /// Marked `rel="sponsored"` and matches nothing else.
    Sponsored,
}

/// The classification of one affiliate link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClass {
    /// What made it affiliate.
    pub kind: LinkKind,
    /// The network name for the report (`cloaked` and `sponsored` for those kinds).
    pub network: Arc<str>,
    /// The id of the rule that matched (`cloaking` / `rel-sponsored` for those kinds).
    pub rule_id: Arc<str>,
    /// The destination the affiliate URL carries in its query, when the network names one.
    pub destination: Option<String>,
    /// The id of the statement the program requires on every page with its links
    /// (`[[required_statement]]` in the rules data), when it requires one.
    pub required_statement: Option<String>,
}

/// Whether two hosts are the same site: equal, or one is the `www.` twin of the other.
fn same_site(a: &str, b: &str) -> bool {
    let a = a.trim_end_matches('.');
    let b = b.trim_end_matches('.');
    a.eq_ignore_ascii_case(b)
        || a.strip_prefix("www.")
            .is_some_and(|x| x.eq_ignore_ascii_case(b))
        || b.strip_prefix("www.")
            .is_some_and(|x| x.eq_ignore_ascii_case(a))
}

/// Classifies a link: by network, then as a cloaked same-site link, then by `rel="sponsored"`.
pub(super) fn classify(
    rules: &Ruleset,
    url: &Url,
    page: Option<&Url>,
    sponsored: bool,
) -> Option<LinkClass> {
    if let Some(host) = url.host_str() {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(n) = rules.network_index.candidates(&host).find_map(|i| {
            let n = &rules.networks[i];
            n.matches(&host, url).then_some(n)
        }) {
            return Some(LinkClass {
                kind: LinkKind::Network,
                network: n.name.clone(),
                rule_id: n.id.clone(),
                destination: n.destination(url),
                required_statement: n.required_statement.clone(),
            });
        }
    }
    if is_cloaked(rules, url, page) {
        return Some(LinkClass {
            kind: LinkKind::Cloaked,
            network: "cloaked".into(),
            rule_id: "cloaking".into(),
            destination: None,
            required_statement: None,
        });
    }
    sponsored.then(|| LinkClass {
        kind: LinkKind::Sponsored,
        network: "sponsored".into(),
        rule_id: "rel-sponsored".into(),
        destination: None,
        required_statement: None,
    })
}

/// A same-site link (same scheme family and host, or both without host as for local files) whose
/// path starts with a cloaking prefix and names something after it.
pub(super) fn is_cloaked(rules: &Ruleset, url: &Url, page: Option<&Url>) -> bool {
    let Some(page) = page else { return false };
    let same = match (url.host_str(), page.host_str()) {
        (Some(a), Some(b)) => same_site(a, b),
        (None, None) => url.scheme() == page.scheme(),
        _ => false,
    };
    if !same {
        return false;
    }
    let path = url.path().to_ascii_lowercase();
    rules
        .cloaking_prefixes
        .iter()
        .any(|prefix| path.len() > prefix.len() && path.starts_with(prefix.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_site_accepts_www_twin() {
        assert!(same_site("www.example.com", "example.com"));
        assert!(same_site("Example.com", "www.example.com"));
        assert!(!same_site("shop.example.com", "example.com"));
    }
}
