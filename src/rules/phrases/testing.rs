//! Helpers shared by the tests of the wording engine.

use crate::rules::{Ruleset, Strength};

/// The default rules.
pub(super) fn matcher() -> Ruleset {
    Ruleset::defaults().expect("default rules")
}

/// The strength of the first statement found in `text` with the default rules.
pub(super) fn finds(text: &str) -> Option<Strength> {
    let rules = matcher();
    rules
        .phrases()
        .find_statements(text)
        .first()
        .map(|m| m.strength)
}
