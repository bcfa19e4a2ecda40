//! Link and script classification compiled from the `network`, `cloaking` and `script` sections.

use regex::Regex;
use url::Url;

use super::Ruleset;
use super::schema::{NetworkRule, ScriptRule};

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

fn compile_hosts(hosts: &[String]) -> Result<Vec<HostPattern>, String> {
    hosts.iter().map(|h| HostPattern::parse(h)).collect()
}

fn compile_regex(what: &str, pattern: &Option<String>) -> Result<Option<Regex>, String> {
    pattern
        .as_deref()
        .map(|p| {
            Regex::new(p).map_err(|e| format!("{what} is not a valid regular expression: {e}"))
        })
        .transpose()
}

/// Finds the networks whose host patterns can match a host without trying every network: domain
/// patterns are looked up by each suffix of the host, first-label patterns by the first label.
#[derive(Debug, Default)]
pub(super) struct NetworkIndex {
    by_domain: rustc_hash::FxHashMap<String, Vec<usize>>,
    by_first_label: rustc_hash::FxHashMap<String, Vec<usize>>,
    /// Networks with `any_host`: candidates for every host.
    any_host: Vec<usize>,
}

impl NetworkIndex {
    pub(super) fn new(networks: &[CompiledNetwork]) -> Self {
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
    pub(super) fn candidates(&self, host: &str) -> impl Iterator<Item = usize> {
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

/// A compiled `[[network]]` entry.
#[derive(Debug)]
pub(super) struct CompiledNetwork {
    pub(super) id: String,
    pub(super) name: String,
    hosts: Vec<HostPattern>,
    any_host: bool,
    path: Option<Regex>,
    params: Vec<String>,
    all_params: Vec<String>,
    destination_param: Option<String>,
    /// The `[[required_statement]]` the program requires (checked against the statements on load).
    pub(super) required_statement: Option<String>,
}

/// Query parameters that many ordinary sites use; on its own such a parameter never makes a link
/// affiliate on an arbitrary host.
const GENERIC_PARAMS: &[&str] = &[
    "a",
    "aff",
    "affid",
    "affiliate",
    "aid",
    "at",
    "c",
    "campaign",
    "cid",
    "code",
    "id",
    "p",
    "partner",
    "pid",
    "promo",
    "r",
    "ref",
    "referral",
    "s",
    "sid",
    "source",
    "src",
    "subid",
    "tag",
    "u",
    "url",
    "via",
];

/// Whether a (lower-case) parameter name is too common to identify a program on any host.
fn is_generic_param(name: &str) -> bool {
    GENERIC_PARAMS.contains(&name) || name.starts_with("utm_")
}

fn lower_all(names: &[String]) -> Vec<String> {
    names.iter().map(|p| p.to_ascii_lowercase()).collect()
}

impl CompiledNetwork {
    pub(super) fn new(rule: &NetworkRule) -> Result<Self, String> {
        let params = lower_all(&rule.params);
        let all_params = lower_all(&rule.all_params);
        if rule.any_host {
            if !rule.hosts.is_empty() {
                return Err("an `any_host` network matches every host: leave `hosts` out".into());
            }
            let distinctive = rule.path.is_some()
                || all_params.iter().any(|p| !is_generic_param(p))
                || (!params.is_empty() && params.iter().all(|p| !is_generic_param(p)));
            if !distinctive {
                return Err(
                    "an `any_host` network needs a `path` or a distinctive parameter: generic ones \
                     such as `ref`, `id`, `via` or `utm_*` are common on ordinary sites"
                        .into(),
                );
            }
        } else if rule.hosts.is_empty() {
            return Err("a network needs at least one host pattern (or `any_host = true`)".into());
        }
        Ok(CompiledNetwork {
            id: rule.id.clone(),
            name: rule.name.clone(),
            hosts: compile_hosts(&rule.hosts)?,
            any_host: rule.any_host,
            path: compile_regex("path", &rule.path)?,
            params,
            all_params,
            destination_param: rule
                .destination_param
                .as_ref()
                .map(|p| p.to_ascii_lowercase()),
            required_statement: rule.required_statement.clone(),
        })
    }

    fn matches(&self, host: &str, url: &Url) -> bool {
        // A rule that needs parameters cannot match a URL without a query (most links): decided
        // before the host patterns and the path regex run.
        if (!self.params.is_empty() || !self.all_params.is_empty()) && url.query().is_none() {
            return false;
        }
        if !self.any_host && !self.hosts.iter().any(|h| h.matches(host)) {
            return false;
        }
        if let Some(path) = &self.path
            && !path.is_match(url.path())
        {
            return false;
        }
        let carries = |name: &str| {
            url.query_pairs()
                .any(|(k, v)| !v.trim().is_empty() && k.eq_ignore_ascii_case(name))
        };
        (self.params.is_empty() || self.params.iter().any(|p| carries(p)))
            && self.all_params.iter().all(|p| carries(p))
    }

    fn destination(&self, url: &Url) -> Option<String> {
        let param = self.destination_param.as_ref()?;
        url.query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(param))
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    }
}

/// A compiled `[[script]]` entry.
#[derive(Debug)]
pub(super) struct CompiledScript {
    pub(super) name: String,
    hosts: Vec<HostPattern>,
    path: Option<Regex>,
    inline: Vec<String>,
}

impl CompiledScript {
    pub(super) fn new(rule: &ScriptRule) -> Result<Self, String> {
        if rule.src_hosts.is_empty() && rule.inline.is_empty() {
            return Err("a script needs `src_hosts` or `inline` snippets".into());
        }
        Ok(CompiledScript {
            name: rule.name.clone(),
            hosts: compile_hosts(&rule.src_hosts)?,
            path: compile_regex("src_path", &rule.src_path)?,
            inline: rule.inline.clone(),
        })
    }

    pub(super) fn matches_src(&self, src: &Url) -> bool {
        let Some(host) = src.host_str() else {
            return false;
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|h| h.matches(&host))
            && self.path.as_ref().is_none_or(|p| p.is_match(src.path()))
    }

    pub(super) fn matches_inline(&self, text: &str) -> bool {
        self.inline.iter().any(|s| text.contains(s.as_str()))
    }
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
    pub network: String,
    /// The id of the rule that matched (`cloaking` / `rel-sponsored` for those kinds).
    pub rule_id: String,
    /// The destination the affiliate URL carries in its query, when the network names one.
    pub destination: Option<String>,
    /// The id of the statement the program requires on every page with its links
    /// (`[[required_statement]]` in the rules data), when it requires one.
    pub required_statement: Option<String>,
}

/// Whether two hosts are the same site: equal, or one is the `www.` twin of the other.
pub fn same_site(a: &str, b: &str) -> bool {
    let a = a.trim_end_matches('.');
    let b = b.trim_end_matches('.');
    a.eq_ignore_ascii_case(b)
        || a.strip_prefix("www.")
            .is_some_and(|x| x.eq_ignore_ascii_case(b))
        || b.strip_prefix("www.")
            .is_some_and(|x| x.eq_ignore_ascii_case(a))
}

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

    fn rule(toml_text: &str) -> Result<CompiledNetwork, String> {
        let rule: NetworkRule = toml::from_str(toml_text).expect("test rule parses");
        CompiledNetwork::new(&rule)
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn host(u: &Url) -> String {
        u.host_str().unwrap().to_ascii_lowercase()
    }

    #[test]
    fn all_params_requires_every_listed_parameter() {
        let n = rule(
            r#"id = "t"
            name = "T"
            source = "test"
            hosts = ["track.example"]
            all_params = ["offer_id", "aff_id"]"#,
        )
        .unwrap();
        let both = url("https://track.example/aff_c?offer_id=1&AFF_ID=2");
        assert!(n.matches(&host(&both), &both));
        for missing in [
            "https://track.example/aff_c?offer_id=1",
            "https://track.example/aff_c?aff_id=2",
            "https://track.example/aff_c?offer_id=1&aff_id=",
        ] {
            let u = url(missing);
            assert!(!n.matches(&host(&u), &u), "{missing}");
        }
    }

    #[test]
    fn params_and_all_params_combine() {
        let n = rule(
            r#"id = "t"
            name = "T"
            source = "test"
            hosts = ["shop.example"]
            params = ["x", "y"]
            all_params = ["z"]"#,
        )
        .unwrap();
        let ok = url("https://shop.example/?y=1&z=2");
        assert!(n.matches(&host(&ok), &ok));
        let no_z = url("https://shop.example/?x=1");
        assert!(!n.matches(&host(&no_z), &no_z));
        let only_z = url("https://shop.example/?z=1");
        assert!(!n.matches(&host(&only_z), &only_z));
    }

    #[test]
    fn any_host_rule_matches_every_host_with_its_parameter() {
        let n = rule(
            r#"id = "t"
            name = "T"
            source = "test"
            any_host = true
            params = ["a_aid"]"#,
        )
        .unwrap();
        for yes in [
            "https://plugins.example/synth?a_aid=abc",
            "https://www.books.example/b?A_AID=x&a_bid=1",
        ] {
            let u = url(yes);
            assert!(n.matches(&host(&u), &u), "{yes}");
        }
        let no = url("https://plugins.example/synth?a_bid=1");
        assert!(!n.matches(&host(&no), &no));
        let index = NetworkIndex::new(std::slice::from_ref(&n));
        assert_eq!(index.candidates("any.example").collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn any_host_rule_must_not_rely_on_generic_parameters() {
        let generic = rule(
            r#"id = "t"
            name = "T"
            source = "test"
            any_host = true
            params = ["ref", "rfsn"]"#,
        );
        assert!(generic.unwrap_err().contains("distinctive"));
        let utm = rule(
            r#"id = "t"
            name = "T"
            source = "test"
            any_host = true
            all_params = ["utm_source", "utm_medium"]"#,
        );
        assert!(utm.is_err());
        let nothing = rule(
            r#"id = "t"
            name = "T"
            source = "test"
            any_host = true"#,
        );
        assert!(nothing.is_err());
        // A generic parameter is fine together with a path shape or a distinctive one.
        assert!(
            rule(
                r#"id = "t"
                name = "T"
                source = "test"
                any_host = true
                path = '/aff\.php$'
                params = ["aff"]"#,
            )
            .is_ok()
        );
        assert!(
            rule(
                r#"id = "t"
                name = "T"
                source = "test"
                any_host = true
                all_params = ["offer_id", "aff_id"]"#,
            )
            .is_ok()
        );
    }

    #[test]
    fn any_host_and_hosts_exclude_each_other() {
        let both = rule(
            r#"id = "t"
            name = "T"
            source = "test"
            any_host = true
            hosts = ["x.example"]
            params = ["rfsn"]"#,
        );
        assert!(both.unwrap_err().contains("leave `hosts` out"));
        let neither = rule(
            r#"id = "t"
            name = "T"
            source = "test"
            params = ["rfsn"]"#,
        );
        assert!(neither.is_err());
    }

    #[test]
    fn generic_parameter_list_covers_utm() {
        assert!(is_generic_param("utm_campaign"));
        assert!(is_generic_param("ref"));
        assert!(!is_generic_param("a_aid"));
    }

    #[test]
    fn same_site_accepts_www_twin() {
        assert!(same_site("www.example.com", "example.com"));
        assert!(same_site("Example.com", "www.example.com"));
        assert!(!same_site("shop.example.com", "example.com"));
    }
}
