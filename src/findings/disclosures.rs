//! Collecting the disclosures of a page: statements and labels in its text blocks, legends and
//! their markers, links that only point to a disclosure, and labels right at a link.

use std::sync::Arc;

use crate::page::{Page, Visibility};
use crate::rules::{Ruleset, SiteNames, Strength};

use super::EXCERPT_CHARS;

/// What kind of disclosure a piece of the page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Visible wording: counts.
    Counted,
    /// Disclosure wording readers cannot see.
    Hidden,
    /// A link whose whole text names a disclosure elsewhere.
    LinkOnly,
}

/// Which links a disclosure speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Every link after it.
    Page,
    /// Links that carry this marker, wherever they stand (a legend: "* affiliate link").
    Marker(char),
}

/// A disclosure found on the page (or declared for the whole site).
#[derive(Debug, Clone)]
pub(super) struct Disclosure {
    pub(super) kind: Kind,
    pub(super) scope: Scope,
    /// Where it starts in reading order.
    pub(super) order: u32,
    pub(super) excerpt: Arc<str>,
    pub(super) strength: Strength,
    /// Ids of the required statements its wording makes.
    pub(super) statements: Vec<String>,
    /// The wording rule that recognised it (`en/self-earns-money`, `label/block` …).
    pub(super) rule: Arc<str>,
}

/// Every disclosure on the page, in reading order: statements and labels in its text blocks
/// (with a legend's marker scope), and links that only point to a disclosure.
pub(super) fn disclosures(page: &Page, rules: &Ruleset, names: &SiteNames) -> Vec<Disclosure> {
    let phrases = rules.phrases();
    let mut out = Vec::new();
    for block in &page.blocks {
        let kind = match block.visibility {
            Visibility::Visible => Kind::Counted,
            Visibility::Hidden => Kind::Hidden,
        };
        // `legend_text`: the sentence with what leads up to it ("* Links marked … ").
        let mut found = |text: &str,
                         legend_text: &str,
                         order: u32,
                         strength: Strength,
                         statements: Vec<String>,
                         rule: String| {
            let legend = phrases.markers_in(legend_text);
            let d = Disclosure {
                kind,
                scope: Scope::Page,
                order,
                excerpt: excerpt(text).into(),
                strength,
                statements,
                rule: rule.into(),
            };
            for marker in legend {
                out.push(Disclosure {
                    scope: Scope::Marker(marker),
                    rule: "label/legend".into(),
                    strength: Strength::Label,
                    ..d.clone()
                });
            }
            out.push(d);
        };
        for m in phrases.find_statements_with(&block.text, names) {
            let lead = block.text[..m.sentence.start]
                .char_indices()
                .rfind(|&(_, c)| matches!(c, '.' | '!' | '?' | '\n' | '。'))
                .map_or(0, |(at, c)| at + c.len_utf8());
            found(
                &block.text[m.sentence.clone()],
                &block.text[lead..m.sentence.end],
                block.order_at(m.sentence.start),
                m.strength,
                m.statements,
                m.rule,
            );
        }
        // A stand-alone label counts only as visible text of its own, not as a link ("Sponsored" in
        // a menu is a category, not a disclosure).
        if !block.all_link_text() && phrases.is_label(&block.text) {
            found(
                &block.text,
                &block.text,
                block.order_at(0),
                Strength::Label,
                Vec::new(),
                "label/block".into(),
            );
        }
    }
    for link in &page.links {
        if link.visibility == Visibility::Visible && phrases.is_link_label(&link.text) {
            out.push(Disclosure {
                kind: Kind::LinkOnly,
                scope: Scope::Page,
                order: link.order,
                excerpt: excerpt(&link.text).into(),
                strength: Strength::Label,
                statements: Vec::new(),
                rule: "label/link-only".into(),
            });
        }
    }
    out.sort_by_key(|d| d.order);
    out
}

/// Where a link's text stands in its block: block index and byte range of the text.
#[derive(Debug, Clone, Copy)]
pub(super) struct LinkPosition {
    block: usize,
    start: usize,
    end: usize,
}

/// The position of every link's text in the blocks, by link index (`None` for links without
/// text in a block, such as image links).
pub(super) fn link_positions(page: &Page) -> Vec<Option<LinkPosition>> {
    let mut out: Vec<Option<LinkPosition>> = vec![None; page.links.len()];
    for (b, block) in page.blocks.iter().enumerate() {
        for (k, seg) in block.segments.iter().enumerate() {
            let Some(link) = seg.link else { continue };
            let i = link as usize;
            let end = block.segments[k + 1..]
                .iter()
                .find(|s| s.link != Some(link))
                .map_or(block.text.len(), |s| s.offset as usize);
            match &mut out[i] {
                Some(p) if p.block == b => p.end = p.end.max(end),
                Some(_) => {}
                slot @ None => {
                    *slot = Some(LinkPosition {
                        block: b,
                        start: seg.offset as usize,
                        end,
                    })
                }
            }
        }
    }
    out
}

/// How far either side of a link (in bytes) its label is looked for: far more than any label, a
/// list intro included ("Products in this video (affiliate links): …" before a long list).
const LABEL_WINDOW: usize = 2048;

/// A label that discloses this one link: "(paid link)" in or right beside it, or a marker that a
/// visible legend explains.
pub(super) fn label_at_link(
    page: &Page,
    link: &crate::page::Link,
    position: Option<LinkPosition>,
    rules: &Ruleset,
    names: &SiteNames,
    disclosures: &[Disclosure],
) -> Option<Disclosure> {
    if link.visibility != Visibility::Visible {
        return None;
    }
    let phrases = rules.phrases();
    let (before, after) = match position {
        Some(p) if page.blocks[p.block].visibility == Visibility::Visible => {
            // A label sits beside its link; a window keeps a block of thousands of links from
            // costing links × block length.
            let text = &page.blocks[p.block].text;
            let mut from = p.start.saturating_sub(LABEL_WINDOW);
            while !text.is_char_boundary(from) {
                from -= 1;
            }
            let mut to = p.end.saturating_add(LABEL_WINDOW).min(text.len());
            while !text.is_char_boundary(to) {
                to += 1;
            }
            (&text[from..p.start], &text[p.end..to])
        }
        _ => ("", ""),
    };
    let label = |excerpt_text: &str, rule: &str| Disclosure {
        kind: Kind::Counted,
        scope: Scope::Page,
        order: link.order,
        excerpt: excerpt(excerpt_text).into(),
        strength: Strength::Label,
        statements: Vec::new(),
        rule: rule.into(),
    };
    if let Some(text) = phrases.label_at_link(&link.text, before, after) {
        return Some(label(text, "label/link"));
    }
    if let Some((m, text)) = phrases.statement_at_link(after, names) {
        return Some(Disclosure {
            strength: m.strength,
            statements: m.statements,
            rule: m.rule.into(),
            ..label(text, "")
        });
    }
    let marker = phrases.link_marker(&link.text, after)?;
    disclosures
        .iter()
        .find(|d| d.kind == Kind::Counted && d.scope == Scope::Marker(marker))
        .map(|legend| Disclosure {
            order: link.order,
            ..legend.clone()
        })
}

/// Cuts text to [`EXCERPT_CHARS`] characters on a character boundary, marking the cut with `…`.
pub(super) fn excerpt(text: &str) -> String {
    let text = text.replace('\n', " ");
    if text.chars().count() <= EXCERPT_CHARS {
        return text;
    }
    let mut out: String = text.chars().take(EXCERPT_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{AMZ, AMZ2, rules_of, run, run_with};
    use crate::findings::{AuditOptions, LinkStatus, Rule};

    #[test]
    fn statement_in_same_block_before_link_counts() {
        let r = run(&format!(
            "<p>We earn a commission if you buy the <a href=\"{AMZ}\">tent</a>.</p>"
        ));
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
    }

    #[test]
    fn statement_containing_a_link_counts() {
        let r = run(&format!(
            "<p>We may earn a commission (<a href=\"/disclosure/\">affiliate disclosure</a>).</p><a href=\"{AMZ}\">Buy</a>"
        ));
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
    }

    #[test]
    fn menu_link_labelled_sponsored_is_not_a_disclosure() {
        let r = run(&format!(
            "<ul><li><a href=\"/sponsored/\">Sponsored</a></li></ul><p><a href=\"{AMZ}\">Buy</a></p>"
        ));
        assert_eq!(rules_of(&r)[0], "undisclosed");
    }

    #[test]
    fn visible_label_block_counts() {
        let r = run(&format!(
            "<p>Anzeige</p><p><a href=\"{AMZ}\">Kaufen</a></p>"
        ));
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
        assert_eq!(r.links[0].disclosure_strength, Some(Strength::Label));
    }

    #[test]
    fn a_label_at_one_link_discloses_that_link_only() {
        let r = run(&format!(
            "<p>Our picks: <a href=\"{AMZ}\">Tent</a> (paid link) and <a href=\"{AMZ2}\">Stove</a>.</p>"
        ));
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
        assert_eq!(r.links[0].disclosure_strength, Some(Strength::Label));
        assert_eq!(&*r.links[0].disclosure_rule, "label/link");
        assert_eq!(
            r.links[1].status,
            LinkStatus::Violation(Rule::Undisclosed),
            "the label of the tent link says nothing about the stove link"
        );
    }

    #[test]
    fn a_label_block_discloses_the_links_after_it() {
        let r = run(&format!(
            "<p><a href=\"{AMZ}\">Tent</a></p><p>(paid link)</p><p><a href=\"{AMZ2}\">Stove</a></p>"
        ));
        assert_eq!(
            r.links[0].status,
            LinkStatus::Violation(Rule::DisclosureAfterLink)
        );
        assert_eq!(r.links[1].status, LinkStatus::Compliant);
        assert_eq!(&*r.links[1].disclosure_rule, "label/block");
    }

    #[test]
    fn a_legend_anywhere_discloses_the_marked_links() {
        let r = run(&format!(
            "<p><a href=\"{AMZ}\">Zelt*</a> und <a href=\"{AMZ2}\">Kocher</a></p><footer><p>* Affiliate-Link</p></footer>"
        ));
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
        assert_eq!(&*r.links[0].disclosure_rule, "label/legend");
        assert_eq!(
            r.links[1].status,
            LinkStatus::Violation(Rule::DisclosureAfterLink)
        );
        // A marker without a legend discloses nothing.
        let bare = run(&format!("<p><a href=\"{AMZ}\">Zelt*</a></p>"));
        assert_eq!(
            bare.links[0].status,
            LinkStatus::Violation(Rule::Undisclosed)
        );
    }

    #[test]
    fn the_sites_own_name_as_earner_discloses() {
        let banner = "<p>Trail Notes may earn a commission when you buy through links.</p>";
        let link = format!("<p><a href=\"{AMZ}\">Tent</a></p>");
        for head in [
            "<meta property=\"og:site_name\" content=\"Trail Notes\">",
            "<title>Best tents of the year | Trail Notes</title>",
            "<script type=\"application/ld+json\">{\"@type\":\"WebSite\",\"name\":\"Trail Notes\"}</script>",
        ] {
            let r = run(&format!("<head>{head}</head><body>{banner}{link}</body>"));
            assert_eq!(r.links[0].status, LinkStatus::Compliant, "{head}");
            assert_eq!(&*r.links[0].disclosure_rule, "en/site-name-earns-money");
        }
        let names = |n: &str| {
            let mut s = SiteNames::new();
            s.add(n);
            AuditOptions {
                site_names: s,
                ..Default::default()
            }
        };
        let r = run_with(&format!("{banner}{link}"), names("trail-notes"));
        assert_eq!(&*r.links[0].disclosure_rule, "en/site-name-earns-money");
    }

    #[test]
    fn someone_elses_name_as_earner_needs_a_tie_to_this_page() {
        let link = format!("<p><a href=\"{AMZ}\">Tent</a></p>");
        let explained = run(&format!(
            "<p>Wirecutter earns a commission on many product recommendations.</p>{link}"
        ));
        assert_eq!(
            explained.links[0].status,
            LinkStatus::Violation(Rule::Undisclosed)
        );
        let tied = run(&format!(
            "<p>Wirecutter earns a commission on products bought through links on this page.</p>{link}"
        ));
        assert_eq!(tied.links[0].status, LinkStatus::Compliant);
        let merchant = run(&format!(
            "<p>Amazon earns a fee on every sale made through these links.</p>{link}"
        ));
        assert_eq!(
            merchant.links[0].status,
            LinkStatus::Violation(Rule::Undisclosed)
        );
    }

    #[test]
    fn sentences_after_a_full_width_stop_are_read() {
        let r = run(&format!(
            "<p>メーカーの案件ではありません。ただし当サイトは紹介料を受け取ります。</p><p><a href=\"{AMZ}\">商品</a></p>"
        ));
        assert_eq!(r.links.len(), 1);
    }

    #[test]
    fn excerpt_is_cut_on_char_boundary() {
        let long = "é".repeat(300);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS);
        assert!(e.ends_with('…'));
    }
}
