//! The texts of findings: what is wrong and what to do about it.

use crate::rules::LinkClass;

use super::Rule;

/// The message of a finding on an affiliate link that breaks `rule`; `redirects` tells whether
/// `class` was read from where the link redirects.
pub(super) fn link_message(
    rule: Rule,
    class: &LinkClass,
    redirects: bool,
    line: u32,
    excerpt: &str,
) -> String {
    let what = match &class.destination {
        Some(dest) if redirects => format!(
            "Cloaked affiliate link on line {line} (redirects to {dest}, {})",
            class.network
        ),
        Some(dest) => format!(
            "Affiliate link ({}, to {dest}) on line {line}",
            class.network
        ),
        None => format!("Affiliate link ({}) on line {line}", class.network),
    };
    match rule {
        Rule::DisclosureAfterLink => format!(
            "{what} comes before the first visible disclosure (\"{}\"); move the disclosure above the link.",
            excerpt
        ),
        Rule::HiddenDisclosure => format!(
            "{what}: the page's only disclosure is hidden from readers; show it as visible text above the link."
        ),
        Rule::DisclosureLinkOnly => format!(
            "{what}: the page only links to a disclosure (\"{excerpt}\"); state in text above the link that the site earns money from it."
        ),
        _ => format!(
            "{what} has no disclosure; add a visible statement such as \"We earn a commission if you buy through links on this page\" above it."
        ),
    }
}

/// The message of a `missing-rel-sponsored` notice on a link of `network`.
pub(super) fn missing_rel_sponsored(network: &str) -> String {
    format!(
        "Affiliate link ({network}) has no rel=\"sponsored\"; search engines ask for it on paid links."
    )
}

/// The message of a `weak-disclosure` notice: the disclosure before the link (`excerpt`, found by
/// the wording rule `rule`) only labels the links or only asks for support.
pub(super) fn weak_disclosure(rule: &str, excerpt: &str) -> String {
    if rule.contains("support") {
        format!(
            "The disclosure before this link (\"{excerpt}\") only asks readers to support the site; the FTC finds such wording unclear and asks for a plain statement that the site earns money from the links (\"We earn a commission if you buy through these links\")."
        )
    } else {
        format!(
            "The disclosure before this link (\"{excerpt}\") only labels links as affiliate or paid links; the FTC asks for a plain statement that the site earns money from them (\"We earn a commission if you buy through these links\")."
        )
    }
}

/// The message of a `monetization-script-undisclosed` finding on the script `name` at `line`.
pub(super) fn script_undisclosed(name: &str, line: u32) -> String {
    format!(
        "The page loads {name} (line {line}), which turns ordinary links into affiliate links, but has no visible disclosure; add one above the first link."
    )
}
