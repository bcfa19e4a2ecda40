//! Required statements: the wording an affiliate program asks for on every page with its links
//! (`[[required_statement]]`), compiled into the rule its absence breaks.
//!
//! The statement's `wording` terms are matched by the wording engine ([`super::PhraseMatcher`]);
//! this module checks the entry and builds its rule ([`Rule::define`]).

use super::ids::{Rule, RuleDefinition, Severity};

use super::schema::RequiredStatementRule;

/// A compiled `[[required_statement]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredStatement {
    /// The statement's id, as networks' `required_statement` names it.
    pub id: String,
    /// The program's name, written to a finding's `network` column.
    pub program: String,
    /// The rule a page without the statement breaks.
    pub rule: Rule,
    /// The severity of its findings (before any `[severity]` override).
    pub severity: Severity,
    /// The finding's message.
    pub message: String,
}

/// A statement checked but not yet registered: its rule is defined only once every entry of the
/// rules is valid, so a file that fails to load defines nothing.
#[derive(Debug)]
pub(super) struct Checked {
    pub(super) definition: RuleDefinition,
    pub(super) id: String,
    pub(super) program: String,
    pub(super) message: String,
}

impl Checked {
    /// Defines the rule and returns the compiled statement.
    pub(super) fn register(self) -> RequiredStatement {
        let severity = self.definition.severity;
        RequiredStatement {
            id: self.id,
            program: self.program,
            rule: Rule::define(self.definition),
            severity,
            message: self.message,
        }
    }
}

/// Checks one entry; `languages` are the ids of the loaded `[[language]]` entries. The error says
/// what is wrong and how to fix it.
pub(super) fn check(rule: &RequiredStatementRule, languages: &[&str]) -> Result<Checked, String> {
    let program = rule.program.trim();
    if program.is_empty() {
        return Err("`program` is empty: name the affiliate program".into());
    }
    let rule_id = rule
        .rule
        .clone()
        .unwrap_or_else(|| format!("{}-statement-missing", rule.id));
    let well_formed = !rule_id.is_empty()
        && rule_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !rule_id.starts_with('-')
        && !rule_id.ends_with('-');
    if !well_formed {
        return Err(format!(
            "rule id `{rule_id}` must be lower-case letters, digits and `-` (such as `acme-statement-missing`)"
        ));
    }
    if Rule::ALL.iter().any(|r| r.id() == rule_id) {
        return Err(format!(
            "rule id `{rule_id}` is a built-in rule; choose another id"
        ));
    }
    let severity = match rule.severity.as_deref() {
        None => Severity::Warning,
        Some(name) => Severity::from_id(name).ok_or_else(|| {
            format!("severity `{name}` is not one of \"error\", \"warning\", \"notice\"")
        })?,
    };
    if rule.wording.values().all(|terms| terms.is_empty()) {
        return Err(
            "`wording` lists no terms: give, per language id, the words that make a disclosure this statement"
                .into(),
        );
    }
    if let Some(lang) = rule
        .wording
        .keys()
        .find(|l| !languages.contains(&l.as_str()))
    {
        return Err(format!(
            "`wording` for language `{lang}`, which no [[language]] entry defines (loaded: {})",
            languages.join(", ")
        ));
    }
    let text = |given: &Option<String>, default: String| {
        given
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map_or(default, str::to_string)
    };
    Ok(Checked {
        definition: RuleDefinition {
            id: rule_id,
            severity,
            title: text(&rule.title, format!("{program} statement missing")),
            description: text(
                &rule.description,
                format!("{program} links without the statement the program requires."),
            ),
            help: text(
                &rule.help,
                format!(
                    "Add the statement the {program} program requires on every page with its links."
                ),
            ),
        },
        id: rule.id.clone(),
        program: program.to_string(),
        message: text(
            &rule.message,
            format!(
                "The page links to {program} but does not show the statement the program requires."
            ),
        ),
    })
}
