//! Compiled `[[script]]` entries: monetization scripts recognised by their `src` URL or inline
//! text.

use regex::Regex;
use url::Url;

use super::super::schema::ScriptRule;
use super::compile_regex;
use super::hosts::{HostPattern, compile_hosts};

/// A compiled `[[script]]` entry.
#[derive(Debug)]
pub(in crate::rules) struct CompiledScript {
    pub(in crate::rules) name: String,
    hosts: Vec<HostPattern>,
    path: Option<Regex>,
    inline: Vec<String>,
}

impl CompiledScript {
    pub(in crate::rules) fn new(rule: &ScriptRule) -> Result<Self, String> {
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

    pub(in crate::rules) fn matches_src(&self, src: &Url) -> bool {
        let Some(host) = src.host_str() else {
            return false;
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|h| h.matches(&host))
            && self.path.as_ref().is_none_or(|p| p.is_match(src.path()))
    }

    pub(in crate::rules) fn matches_inline(&self, text: &str) -> bool {
        self.inline.iter().any(|s| text.contains(s.as_str()))
    }
}
