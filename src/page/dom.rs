//! Reading the parsed tree: attribute values, the text inside an element, and link targets.

use html5ever::{LocalName, ns};
use scraper::Node;
use scraper::node::Element;
use url::Url;

/// An attribute's value. Compares interned names, where scraper's `Element::attr` interns its
/// argument on every call.
pub(super) fn attr(el: &Element, name: LocalName) -> Option<&str> {
    el.attrs
        .iter()
        .find(|(q, _)| q.local == name && q.ns == ns!())
        .map(|(_, v)| &**v)
}

/// The text inside an element (inline scripts, titles, style sheets).
pub(super) fn element_text(node: ego_tree::NodeRef<'_, Node>) -> String {
    node.descendants()
        .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
        .collect()
}

/// Resolves `href` against `base`; a missing base resolves only absolute URLs.
pub(super) fn resolve(base: Option<&Url>, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    match base {
        Some(base) => base.join(href).ok(),
        None => Url::parse(href).ok(),
    }
}
