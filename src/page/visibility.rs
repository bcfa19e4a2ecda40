//! Hidden-text rules: whether an element hides what is inside it, by the `hidden` attribute, a hiding
//! inline style, a visually-hidden class from the rules, or a class the page's own `<style>` hides.
//!
//! What an element inherits (a hidden ancestor, a closed `<details>`) is the walk's business.

use html5ever::local_name;

use super::HiddenBy;
use super::tree::{Elem, Tree};
use crate::rules::Ruleset;

/// What hides an element on one page: the rules' hiding styles and classes, plus the classes the
/// page's own CSS hides.
pub(super) struct Hiding<'r> {
    rules: &'r Ruleset,
    /// Classes hidden by the page's `<style>` elements.
    page_classes: Vec<String>,
}

impl<'r> Hiding<'r> {
    /// The hiding rules of the page `html`.
    pub(super) fn new(tree: &Tree, rules: &'r Ruleset) -> Self {
        Hiding {
            rules,
            page_classes: page_css_hidden_classes(tree, rules),
        }
    }

    /// Whether `el` itself hides its content, and how.
    pub(super) fn hides(&self, el: &Elem<'_>) -> Option<HiddenBy> {
        if el.attr(&local_name!("hidden")).is_some() {
            return Some(HiddenBy::Attribute);
        }
        if el
            .attr(&local_name!("style"))
            .is_some_and(|s| self.rules.style_hides(s))
        {
            return Some(HiddenBy::Style);
        }
        let classes = el.attr(&local_name!("class")).unwrap_or("");
        if classes
            .split_ascii_whitespace()
            .any(|c| self.rules.is_hidden_class(c))
        {
            return Some(HiddenBy::Class);
        }
        classes
            .split_ascii_whitespace()
            .any(|c| self.page_classes.iter().any(|h| h == c))
            .then_some(HiddenBy::PageStyle)
    }
}

/// Classes that the page's own CSS hides with a simple top-level rule (`.promo-note{display:none}`).
/// Rules inside at-rules such as `@media` hide only on some screens and are ignored.
fn page_css_hidden_classes(tree: &Tree, rules: &Ruleset) -> Vec<String> {
    let mut classes = Vec::new();
    for node in tree.descendants(tree.root()) {
        if tree
            .element(node)
            .is_none_or(|el| *el.local() != local_name!("style"))
        {
            continue;
        }
        let css = tree.element_text(node);
        for (selectors, declarations) in top_level_rules(&css) {
            if !rules.style_hides(declarations) {
                continue;
            }
            for sel in selectors.split(',') {
                let sel = sel.trim();
                if let Some(class) = sel.strip_prefix('.')
                    && !class.is_empty()
                    && class
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
                {
                    classes.push(class.to_string());
                }
            }
        }
    }
    classes
}

/// Splits a style sheet into (selectors, declarations) for rules outside any at-rule.
fn top_level_rules(css: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let bytes = css.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = css[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                start = i;
                continue;
            }
            b'{' => {
                let selectors = css[start..i].trim();
                // Find the matching close brace.
                let mut depth = 1;
                let mut j = i + 1;
                while j < bytes.len() && depth > 0 {
                    match bytes[j] {
                        b'{' => depth += 1,
                        b'}' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                let body_end = j.saturating_sub(1).max(i + 1);
                if !selectors.starts_with('@') && depth == 0 {
                    out.push((selectors, &css[i + 1..body_end]));
                }
                i = j;
                start = j;
                continue;
            }
            b';' if css[start..i].trim_start().starts_with('@') => {
                // `@import …;` and similar statements.
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::page::Visibility;
    use crate::page::test_page as page;

    #[test]
    fn hidden_by_style_attribute_class_and_details() {
        let p = page(concat!(
            "<div style=\"display: none\"><p>A</p></div>",
            "<p hidden>B</p>",
            "<p><span class=\"sr-only\">C</span>D</p>",
            "<details><summary>E</summary><p>F</p></details>",
            "<details open><p>G</p></details>",
        ));
        let vis: Vec<(&str, Visibility)> = p
            .blocks
            .iter()
            .map(|b| (b.text.as_str(), b.visibility))
            .collect();
        use Visibility::*;
        assert_eq!(
            vis,
            vec![
                ("A", Hidden),
                ("B", Hidden),
                ("C", Hidden),
                ("D", Visible),
                ("E", Visible),
                ("F", Hidden),
                ("G", Visible)
            ]
        );
    }

    #[test]
    fn page_css_classes_hide_but_media_queries_do_not() {
        let p = page(concat!(
            "<style>/* x */ .note, .other { display:none } @media (max-width:600px){ .wide{display:none} } .shown{color:red}</style>",
            "<p class=\"note\">A</p><p class=\"wide\">B</p><p class=\"shown\">C</p>"
        ));
        let vis: Vec<Visibility> = p.blocks.iter().map(|b| b.visibility).collect();
        assert_eq!(
            vis,
            vec![Visibility::Hidden, Visibility::Visible, Visibility::Visible]
        );
    }
}
