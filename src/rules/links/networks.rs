//! Compiled `[[network]]` entries: which hosts, paths and query parameters make a link affiliate,
//! and where the link leads.

use std::sync::Arc;

use regex::Regex;
use url::Url;

use super::super::schema::NetworkRule;
use super::compile_regex;
use super::hosts::{HostPattern, compile_hosts};

/// A compiled `[[network]]` entry.
#[derive(Debug)]
pub(in crate::rules) struct CompiledNetwork {
    pub(in crate::rules) id: Arc<str>,
    pub(in crate::rules) name: Arc<str>,
    pub(super) hosts: Vec<HostPattern>,
    pub(super) any_host: bool,
    path: Option<Regex>,
    params: Vec<String>,
    all_params: Vec<String>,
    destination_param: Option<String>,
    /// The `[[required_statement]]` the program requires (checked against the statements on load).
    pub(in crate::rules) required_statement: Option<String>,
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
    pub(in crate::rules) fn new(rule: &NetworkRule) -> Result<Self, String> {
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
            id: rule.id.as_str().into(),
            name: rule.name.as_str().into(),
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

    pub(super) fn matches(&self, host: &str, url: &Url) -> bool {
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

    pub(super) fn destination(&self, url: &Url) -> Option<String> {
        let param = self.destination_param.as_ref()?;
        url.query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(param))
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::super::NetworkIndex;
    use super::*;

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
}
