//! The rules a finding can break: the built-in ones and those the rules data defines, with their
//! ids, default severities and descriptions; and the severities. They live with the rules data
//! (which defines some of them) and are re-exported by [`crate::findings`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; off unless asked for.
    Notice,
    /// Should be fixed; does not fail a run by default.
    Warning,
    /// A compliance violation.
    Error,
}

impl Severity {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// The severity with this report name, as [`Severity::as_str`] writes it.
    pub fn from_id(id: &str) -> Option<Severity> {
        [Severity::Notice, Severity::Warning, Severity::Error]
            .into_iter()
            .find(|s| s.as_str() == id)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule a finding breaks: one of the built-in rules, or the rule of a statement that the rules
/// data requires (`[[required_statement]]`, such as `amazon-statement-missing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// An affiliate link with no disclosure anywhere on the page.
    Undisclosed,
    /// An affiliate link that comes before the first visible disclosure.
    DisclosureAfterLink,
    /// The page's only disclosure text is hidden.
    HiddenDisclosure,
    /// The page only links to a disclosure page.
    DisclosureLinkOnly,
    /// The page loads a link-rewriting script and discloses nothing.
    MonetizationScriptUndisclosed,
    /// Links of a program without the statement the program requires; the rule id, severity and
    /// texts come from the rules data ([`Rule::define`]).
    StatementMissing(RuleId),
    /// An affiliate link without `rel="sponsored"`.
    MissingRelSponsored,
    /// The disclosure before a link only labels it ("contains affiliate links") without saying the
    /// site earns money from it.
    WeakDisclosure,
}

/// The id of a rule defined by the rules data, interned for the life of the process so that
/// [`Rule`] stays `Copy`. Ids compare as strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(&'static str);

impl RuleId {
    /// The interned id for `id` (each distinct id is stored once per process).
    pub fn new(id: &str) -> RuleId {
        static IDS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
            std::sync::Mutex::new(std::collections::BTreeSet::new());
        let mut ids = IDS.lock().unwrap_or_else(|e| e.into_inner());
        match ids.get(id) {
            Some(&known) => RuleId(known),
            None => {
                let leaked: &'static str = Box::leak(id.to_string().into_boxed_str());
                ids.insert(leaked);
                RuleId(leaked)
            }
        }
    }

    /// The id as written in reports.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// What the rules data says about a rule it defines: its default severity and the texts reports
/// show (SARIF's rule descriptors, `Rule::description`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDefinition {
    /// The rule id.
    pub id: String,
    /// The severity its findings have unless `[severity]` says otherwise.
    pub severity: Severity,
    /// A short title (SARIF `shortDescription`).
    pub title: String,
    /// One sentence on what the rule checks.
    pub description: String,
    /// What to do about a finding (SARIF `help`).
    pub help: String,
}

/// Rules defined by the rules data loaded in this process, by id; a later definition of an id
/// replaces the earlier one.
static DEFINED: std::sync::RwLock<std::collections::BTreeMap<RuleId, &'static RuleDefinition>> =
    std::sync::RwLock::new(std::collections::BTreeMap::new());

impl Rule {
    /// Every built-in rule, in report order; [`Rule::all`] adds the rules the rules data defines.
    pub const ALL: [Rule; 7] = [
        Rule::Undisclosed,
        Rule::DisclosureAfterLink,
        Rule::HiddenDisclosure,
        Rule::DisclosureLinkOnly,
        Rule::MonetizationScriptUndisclosed,
        Rule::MissingRelSponsored,
        Rule::WeakDisclosure,
    ];

    /// Every rule known in this process, in report order: the built-in rules, with the rules
    /// defined by the rules data loaded so far (by id) where required statements stand.
    pub fn all() -> Vec<Rule> {
        let defined = DEFINED.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<Rule> = Rule::ALL.to_vec();
        out.extend(defined.keys().map(|&id| Rule::StatementMissing(id)));
        out.sort();
        out
    }

    /// Records the rule of a required statement of the rules data (done by
    /// [`crate::rules::Ruleset`] on load) and returns it. Its texts and default severity are then
    /// known to every report of the process; a later definition with the same id replaces them.
    pub fn define(definition: RuleDefinition) -> Rule {
        let id = RuleId::new(&definition.id);
        let mut defined = DEFINED.write().unwrap_or_else(|e| e.into_inner());
        if defined.get(&id).is_none_or(|d| **d != definition) {
            defined.insert(id, Box::leak(Box::new(definition)));
        }
        Rule::StatementMissing(id)
    }

    /// What the rules data says about this rule; `None` for built-in rules and for ids no loaded
    /// rules data defines.
    pub fn definition(self) -> Option<&'static RuleDefinition> {
        match self {
            Rule::StatementMissing(id) => DEFINED
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&id)
                .copied(),
            _ => None,
        }
    }

    /// The rule id used in reports.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Undisclosed => "undisclosed",
            Rule::DisclosureAfterLink => "disclosure-after-link",
            Rule::HiddenDisclosure => "hidden-disclosure",
            Rule::DisclosureLinkOnly => "disclosure-link-only",
            Rule::MonetizationScriptUndisclosed => "monetization-script-undisclosed",
            Rule::StatementMissing(id) => id.as_str(),
            Rule::MissingRelSponsored => "missing-rel-sponsored",
            Rule::WeakDisclosure => "weak-disclosure",
        }
    }

    /// The severity a finding of this rule has (for a rule of the rules data, the severity it
    /// defines; `warning` for an id no loaded rules data defines).
    pub fn severity(self) -> Severity {
        match self {
            Rule::StatementMissing(_) => {
                self.definition().map_or(Severity::Warning, |d| d.severity)
            }
            Rule::MissingRelSponsored | Rule::WeakDisclosure => Severity::Notice,
            _ => Severity::Error,
        }
    }

    /// One sentence on what the rule checks.
    pub fn description(self) -> &'static str {
        match self {
            Rule::Undisclosed => {
                "An affiliate or paid link appears on a page with no disclosure at all."
            }
            Rule::DisclosureAfterLink => {
                "An affiliate link comes before the first visible disclosure in reading order."
            }
            Rule::HiddenDisclosure => {
                "The page's only disclosure is hidden from readers (display:none, hidden, screen-reader-only class)."
            }
            Rule::DisclosureLinkOnly => {
                "The page only links to a disclosure page (\"Affiliate disclosure\") instead of stating it."
            }
            Rule::MonetizationScriptUndisclosed => {
                "The page loads a script that turns ordinary links into affiliate links, and discloses nothing."
            }
            Rule::StatementMissing(_) => self.definition().map_or(
                "Links of a program without the statement the program requires.",
                |d| d.description.as_str(),
            ),
            Rule::MissingRelSponsored => {
                "An affiliate link without rel=\"sponsored\" (search-engine guidance, not a disclosure rule)."
            }
            Rule::WeakDisclosure => {
                "The disclosure only labels links as affiliate links without saying the site earns money from them."
            }
        }
    }

    /// Finds a rule by id: a built-in rule, or one the rules data loaded so far defines.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id).or_else(|| {
            DEFINED
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .keys()
                .find(|k| k.as_str() == id)
                .map(|&k| Rule::StatementMissing(k))
        })
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Rule {
    /// A rule by its id: a built-in rule, or one the loaded rules data defines (the crawl's
    /// journal reads findings back this way).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        Rule::from_id(&id).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown rule `{id}`; are the same rules loaded?"))
        })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
