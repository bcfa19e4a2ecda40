//! Checked values of `affcheck.toml`: globs and regular expressions compiled while the file is
//! read (so a bad one is reported with its line), URLs, report formats, `[severity]` keys, and the
//! line and column of an error.

use std::collections::BTreeMap;
use std::fmt;

use globset::GlobBuilder;
use regex::Regex;
use serde::{Deserialize, Deserializer};
use url::Url;

use super::SeverityLevel;
use crate::findings::{Rule, RuleId};
use crate::report::Format;

/// A path or glob without its leading `./` and `/`, so globs are anchored at the path's start
/// whether or not they or the path begin with `/`.
pub(super) fn path_key(path: &str) -> &str {
    let mut p = path;
    loop {
        let next = p.trim_start_matches("./").trim_start_matches('/');
        if next.len() == p.len() {
            return p;
        }
        p = next;
    }
}

pub(super) fn glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(path_key(pattern))
        .literal_separator(true)
        .build()
}

/// A string checked while parsing, so its error carries its own line.
pub(super) struct Checked<const KIND: u8>(pub(super) String);

pub(super) const GLOB: u8 = 0;
pub(super) const REGEX: u8 = 1;

impl<'de, const KIND: u8> Deserialize<'de> for Checked<KIND> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Checked inside the visitor, so the TOML deserializer tags the error with this string's
        // own position rather than the whole array's.
        struct Visitor<const KIND: u8>;
        impl<const KIND: u8> serde::de::Visitor<'_> for Visitor<KIND> {
            type Value = Checked<KIND>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(if KIND == GLOB {
                    "a glob"
                } else {
                    "a regular expression"
                })
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                let problem = match KIND {
                    GLOB => glob(s).err().map(|e| format!("invalid glob `{s}`: {e}")),
                    _ => Regex::new(s)
                        .err()
                        .map(|e| format!("invalid regular expression `{s}`: {e}")),
                };
                match problem {
                    Some(message) => Err(E::custom(message)),
                    None => Ok(Checked(s.to_string())),
                }
            }
        }
        d.deserialize_str(Visitor::<KIND>)
    }
}

pub(super) fn globs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v: Vec<Checked<GLOB>> = Vec::deserialize(d)?;
    Ok(v.into_iter().map(|c| c.0).collect())
}

pub(super) fn regexes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v: Vec<Checked<REGEX>> = Vec::deserialize(d)?;
    Ok(v.into_iter().map(|c| c.0).collect())
}

pub(super) fn regexes_opt<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    regexes(d).map(Some)
}

pub(super) fn base_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    let s = String::deserialize(d)?;
    let url = Url::parse(&s)
        .map_err(|e| serde::de::Error::custom(format!("invalid base_url `{s}`: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(serde::de::Error::custom(format!(
            "base_url `{s}` is not an http(s) URL"
        )));
    }
    Ok(Some(url))
}

pub(super) fn formats<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Format>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let names = match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s.split(',').map(str::to_string).collect(),
        OneOrMany::Many(v) => v,
    };
    names
        .iter()
        .map(|n| n.parse::<Format>().map_err(serde::de::Error::custom))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A `[severity]` key: a rule id. An id that is no built-in rule may be one the rules data
/// defines; [`Config::load_rules`] checks it once the rules are loaded.
pub(super) struct RuleKey(pub(super) Rule);

impl<'de> Deserialize<'de> for RuleKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        let builtin = Rule::ALL.into_iter().find(|r| r.id() == id);
        Ok(RuleKey(builtin.unwrap_or_else(|| {
            Rule::StatementMissing(RuleId::new(&id))
        })))
    }
}

pub(super) fn severities<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<Rule, SeverityLevel>, D::Error> {
    let map: Vec<(RuleKey, SeverityLevel)> = {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = Vec<(RuleKey, SeverityLevel)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of rule id = \"error\" | \"warning\" | \"notice\" | \"off\"")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = access.next_entry()? {
                    out.push(pair);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Pairs)?
    };
    Ok(map.into_iter().map(|(k, v)| (k.0, v)).collect())
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
pub(super) fn line_col(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, rest)| rest)
        .chars()
        .count()
        + 1;
    (line, column)
}
