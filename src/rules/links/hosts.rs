//! Host patterns of the rules files (`sjv.io`, `goto.*`) and the index that finds, for a host, the
//! networks whose patterns can match it.

use super::CompiledNetwork;

/// A host pattern from a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `example.com`: that host or any subdomain of it.
    Domain(String),
    /// `goto.*`: any host whose first label is this one and that has at least two more labels
    /// (`goto.brand.com`), so a bare `goto.com` does not match.
    FirstLabel(String),
}

impl HostPattern {
    /// Parses `example.com` or `label.*`; the pattern is lower-cased.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let p = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Some(label) = p.strip_suffix(".*") {
            if label.is_empty() || label.contains(['.', '*', '/']) {
                return Err(format!(
                    "host pattern `{pattern}`: write `label.*` with a single label"
                ));
            }
            return Ok(HostPattern::FirstLabel(label.to_string()));
        }
        let p = p.strip_prefix("*.").unwrap_or(&p).to_string();
        if p.is_empty() || p.contains(['*', '/', ':']) || !p.contains('.') {
            return Err(format!(
                "host pattern `{pattern}`: write a domain such as `example.com` (subdomains match too) or `label.*`"
            ));
        }
        Ok(HostPattern::Domain(p))
    }

    /// Whether `host` (lower case, no trailing dot) matches.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Domain(d) => {
                host == d
                    || (host.len() > d.len()
                        && host.ends_with(d.as_str())
                        && host.as_bytes()[host.len() - d.len() - 1] == b'.')
            }
            HostPattern::FirstLabel(label) => host
                .strip_prefix(label.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|rest| rest.contains('.')),
        }
    }
}

/// Parses the host patterns of a rules entry.
pub(super) fn compile_hosts(hosts: &[String]) -> Result<Vec<HostPattern>, String> {
    hosts.iter().map(|h| HostPattern::parse(h)).collect()
}

/// Finds the networks whose host patterns can match a host without trying every network: domain
/// patterns are looked up by each suffix of the host, first-label patterns by the first label.
#[derive(Debug, Default)]
pub(in crate::rules) struct NetworkIndex {
    by_domain: rustc_hash::FxHashMap<String, Vec<usize>>,
    by_first_label: rustc_hash::FxHashMap<String, Vec<usize>>,
    /// Networks with `any_host`: candidates for every host.
    any_host: Vec<usize>,
}

impl NetworkIndex {
    pub(in crate::rules) fn new(networks: &[CompiledNetwork]) -> Self {
        let mut index = NetworkIndex::default();
        for (i, n) in networks.iter().enumerate() {
            if n.any_host {
                index.any_host.push(i);
            }
            for h in &n.hosts {
                let (map, key) = match h {
                    HostPattern::Domain(d) => (&mut index.by_domain, d),
                    HostPattern::FirstLabel(l) => (&mut index.by_first_label, l),
                };
                let list = map.entry(key.clone()).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        index
    }

    /// Indexes of networks that may match `host` (lower case), in rules order.
    pub(in crate::rules) fn candidates(&self, host: &str) -> impl Iterator<Item = usize> {
        let mut found: Vec<usize> = self.any_host.clone();
        let suffixes =
            std::iter::once(host).chain(host.match_indices('.').map(|(at, _)| &host[at + 1..]));
        for suffix in suffixes {
            if let Some(list) = self.by_domain.get(suffix) {
                found.extend(list);
            }
        }
        if let Some(first) = host.split('.').next()
            && let Some(list) = self.by_first_label.get(first)
        {
            found.extend(list);
        }
        found.sort_unstable();
        found.dedup();
        found.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_pattern_matches_host_and_subdomains_only() {
        let p = HostPattern::parse("sjv.io").unwrap();
        assert!(p.matches("sjv.io"));
        assert!(p.matches("hike.sjv.io"));
        assert!(!p.matches("notsjv.io"));
        assert!(!p.matches("sjv.io.evil.example"));
    }

    #[test]
    fn first_label_pattern_needs_a_domain_after_it() {
        let p = HostPattern::parse("goto.*").unwrap();
        assert!(p.matches("goto.walmart.com"));
        assert!(!p.matches("goto.com"));
        assert!(!p.matches("gotowalmart.com"));
    }

    #[test]
    fn bad_host_patterns_are_rejected() {
        assert!(HostPattern::parse("").is_err());
        assert!(HostPattern::parse("https://x.com/").is_err());
        assert!(HostPattern::parse("a.*.com").is_err());
        assert!(HostPattern::parse("localhost").is_err());
    }
}
