//! Reading the parsed tree: attribute values, the text inside an element, link targets, and white
//! space folding.

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

/// Appends `text` to `out` with runs of white space folded to one space, never starting `out` with a
/// space nor putting one after a line break (from `<br>`).
pub(super) fn append_collapsed(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with([' ', '\n']) {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// White space folded and trimmed.
pub(super) fn collapse(text: &str) -> String {
    let mut out = String::new();
    append_collapsed(&mut out, text);
    out.trim().to_string()
}
