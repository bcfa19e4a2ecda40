//! The *findings* stage: which links are affiliate links, which disclosures the page has, and what is
//! wrong.
//!
//! For each affiliate link, in order of precedence:
//! 1. a counted (visible) disclosure starts before the link: compliant;
//! 2. a counted disclosure exists only after it: `disclosure-after-link`;
//! 3. only hidden disclosure text exists: `hidden-disclosure`;
//! 4. only a link to a disclosure exists: `disclosure-link-only`;
//! 5. nothing: `undisclosed`.
//!
//! The stage is split by job: [`Rule`] and its definitions live in `rules`, the disclosures a page
//! carries are collected in `disclosures`, each link's verdict is decided in `verdict`, and the
//! texts of findings are written in `messages`.

mod disclosures;
mod explain;
mod messages;
#[cfg(test)]
mod testing;
mod verdict;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::rules::{Ruleset, SiteNames, Strength};

pub use crate::rules::ids::{Rule, RuleDefinition, RuleId, Severity};
pub use explain::{
    Deciding, DisclosureFact, DisclosureKind, Explanation, LinkFact, NearMissFact, ScriptFact,
    StatementFact, explain, explain_resolved,
};
pub use verdict::{audit, audit_resolved};

/// Longest disclosure excerpt in a report, in characters.
pub const EXCERPT_CHARS: usize = 120;

/// One violation: a row of the CSV report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What the report shows as the page.
    pub page_url: Arc<str>,
    /// The rule broken.
    pub rule: Rule,
    /// Its severity.
    pub severity: Severity,
    /// The absolute link URL (or the script URL for page-level rules; may be empty).
    pub link_url: Arc<str>,
    /// The network (or script product) name.
    pub network: Arc<str>,
    /// The link text.
    pub link_text: Arc<str>,
    /// 1-based source line of the link or script.
    pub line: u32,
    /// The nearest disclosure text, at most [`EXCERPT_CHARS`] characters.
    pub disclosure_excerpt: Arc<str>,
    /// Strength of the disclosure in `disclosure_excerpt`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosure_strength: Option<Strength>,
    /// The wording rule that recognised that disclosure (`en/self-earns-money`, `label/block` …).
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub disclosure_rule: Arc<str>,
    /// What is wrong and what to do.
    pub message: String,
}

/// How an affiliate link stands: compliant or the rule it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkStatus {
    /// A visible disclosure comes before it.
    Compliant,
    /// It breaks this rule.
    Violation(Rule),
}

impl fmt::Display for LinkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkStatus::Compliant => f.write_str("compliant"),
            LinkStatus::Violation(rule) => f.write_str(rule.id()),
        }
    }
}

/// An affiliate link found on a page, compliant or not (a row of `--inventory`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AffiliateLink {
    /// The absolute URL.
    pub link_url: Arc<str>,
    /// Network name (`cloaked`, `sponsored` for those kinds).
    pub network: Arc<str>,
    /// The rule id that classified it.
    pub network_rule: Arc<str>,
    /// The merchant URL the link carries, when the network puts it in the query.
    pub destination: Option<String>,
    /// Link text.
    pub link_text: Arc<str>,
    /// 1-based source line.
    pub line: u32,
    /// Whether its `rel` contains `sponsored`.
    pub rel_sponsored: bool,
    /// Compliant or the rule it breaks.
    pub status: LinkStatus,
    /// The disclosure the status was decided on.
    pub disclosure_excerpt: Arc<str>,
    /// Strength of the disclosure before the link, when compliant.
    pub disclosure_strength: Option<Strength>,
    /// The wording rule of the disclosure the status was decided on (`en/self-earns-money`,
    /// `label/link`, `label/legend` …); empty when there is none.
    pub disclosure_rule: Arc<str>,
}

/// Everything the audit found on one page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageReport {
    /// What the report shows as the page.
    pub page_url: String,
    /// Violations, in reading order (page-level ones last).
    pub findings: Vec<Finding>,
    /// Every affiliate link, in reading order.
    pub links: Vec<AffiliateLink>,
}

/// Options that change what the audit reports.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Report notice-level rules (`missing-rel-sponsored`, `weak-disclosure`).
    pub notices: bool,
    /// The site shows a disclosure that the HTML does not carry (`[site] disclosure` in
    /// `affcheck.toml`): it counts as a visible disclosure before every link.
    pub site_disclosure: Option<SiteDisclosure>,
    /// The site's own names from the config (`[site] names`), in addition to those each page
    /// states: a sentence with one of them as the earner discloses.
    pub site_names: SiteNames,
}

/// A site-wide disclosure declared in the config, graded by the wording model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteDisclosure {
    /// The ids of the required statements (`[[required_statement]]`) its wording makes
    /// (`amazon-associates` for "As an Amazon Associate I earn from qualifying purchases").
    pub statements: std::collections::BTreeSet<String>,
    /// How clearly it discloses.
    pub strength: Strength,
}

impl Default for SiteDisclosure {
    fn default() -> Self {
        SiteDisclosure {
            statements: Default::default(),
            strength: Strength::Explicit,
        }
    }
}

impl SiteDisclosure {
    /// Grades a site-wide disclosure text with the wording model; `None` when the model does not
    /// read it as a disclosure at all (a statement or a label).
    pub fn grade(text: &str, rules: &Ruleset) -> Option<SiteDisclosure> {
        let phrases = rules.phrases();
        let matches = phrases.find_statements(text);
        let strength = matches.iter().map(|m| m.strength).max();
        let strength = strength.or_else(|| phrases.is_label(text).then_some(Strength::Label))?;
        Some(SiteDisclosure {
            statements: matches.iter().flat_map(|m| m.statements.clone()).collect(),
            strength,
        })
    }
}

/// The excerpt shown for a site-wide disclosure from the config.
pub const SITE_DISCLOSURE_EXCERPT: &str = "(site-wide disclosure from affcheck.toml)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_disclosure_must_be_a_disclosure() {
        let rules = Ruleset::defaults().unwrap();
        assert!(SiteDisclosure::grade("Hello world", &rules).is_none());
        let d = SiteDisclosure::grade("Anzeige", &rules).unwrap();
        assert_eq!(d.strength, Strength::Label);
        let d = SiteDisclosure::grade(
            "As an Amazon Associate we earn from qualifying purchases.",
            &rules,
        )
        .unwrap();
        assert_eq!(
            d.statements.iter().collect::<Vec<_>>(),
            ["amazon-associates"]
        );
        assert_eq!(d.strength, Strength::Explicit);
    }
}
