//! The tree walk: visits the parsed DOM in document order and builds the page's text blocks and
//! links, numbering every text run and link from one counter.
//!
//! Inline elements fold into the block around them and white space collapses; a block-level element
//! or a change of visibility starts a new block. Elements whose content is not text are skipped
//! whole.

use html5ever::{LocalName, local_name};
use rustc_hash::FxHashMap;

use super::dom::{append_collapsed, collapse, resolve};
use super::facts::Facts;
use super::tree::{Edge, Elem, Kind, NodeId, Tree};
use super::visibility::Hiding;
use super::{Block, HiddenBy, Link, Page, Segment, Visibility};
use crate::rules::Ruleset;

/// Walks `tree` and adds its blocks, links and page-level facts to `page`. `tag_lines` gives the
/// source line of the elements the parser recorded.
pub(super) fn walk<'r>(
    tree: &Tree,
    tag_lines: &FxHashMap<NodeId, u32>,
    rules: &'r Ruleset,
    hiding: Hiding<'r>,
    page: Page,
) -> Page {
    let mut b = Builder {
        rules,
        hiding,
        page,
        order: 0,
        last_run: 0,
        current: None,
        link: None,
        link_fallback: String::new(),
        frames: Vec::new(),
        skip_depth: 0,
        facts: Facts::default(),
    };
    for edge in tree.traverse(tree.root()) {
        match edge {
            Edge::Open(node) => match tree.kind(node) {
                Kind::Element => {
                    if b.skip_depth > 0 {
                        b.skip_depth += 1;
                    } else if let Some(el) = tree.element(node) {
                        let line = tag_lines.get(&node).copied().unwrap_or(0);
                        b.open(&el, line, || tree.element_text(node));
                    }
                }
                Kind::Text if b.skip_depth == 0 => {
                    if let Some(text) = tree.text(node) {
                        b.text(text);
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                if tree.kind(node) == Kind::Element {
                    if b.skip_depth > 0 {
                        b.skip_depth -= 1;
                    } else {
                        b.close();
                    }
                }
            }
        }
    }
    b.flush();
    b.page
}

/// Elements whose content is not page text.
fn is_skipped(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("script")
            | local_name!("style")
            | local_name!("template")
            | local_name!("noscript")
            | local_name!("title")
            | local_name!("textarea")
            | local_name!("select")
            | local_name!("iframe")
            | local_name!("object")
            | local_name!("svg")
            | local_name!("math")
            | local_name!("canvas")
            | local_name!("video")
            | local_name!("audio")
    )
}

/// Elements that start a new text block.
fn is_block(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("address")
            | local_name!("article")
            | local_name!("aside")
            | local_name!("blockquote")
            | local_name!("body")
            | local_name!("button")
            | local_name!("caption")
            | local_name!("dd")
            | local_name!("details")
            | local_name!("dialog")
            | local_name!("div")
            | local_name!("dl")
            | local_name!("dt")
            | local_name!("fieldset")
            | local_name!("figcaption")
            | local_name!("figure")
            | local_name!("footer")
            | local_name!("form")
            | local_name!("h1")
            | local_name!("h2")
            | local_name!("h3")
            | local_name!("h4")
            | local_name!("h5")
            | local_name!("h6")
            | local_name!("header")
            | local_name!("hgroup")
            | local_name!("hr")
            | local_name!("html")
            | local_name!("legend")
            | local_name!("li")
            | local_name!("main")
            | local_name!("nav")
            | local_name!("ol")
            | local_name!("option")
            | local_name!("p")
            | local_name!("pre")
            | local_name!("section")
            | local_name!("summary")
            | local_name!("table")
            | local_name!("tbody")
            | local_name!("td")
            | local_name!("tfoot")
            | local_name!("th")
            | local_name!("thead")
            | local_name!("tr")
            | local_name!("ul")
    )
}

/// Per open element: what it contributes to the visibility and structure of what is inside it.
struct Frame {
    hidden: Option<HiddenBy>,
    /// The source line of this element or of the nearest enclosing one with a known line.
    line: u32,
    closed_details: bool,
    block: bool,
    link: bool,
}

struct Builder<'r> {
    rules: &'r Ruleset,
    hiding: Hiding<'r>,
    page: Page,
    order: u32,
    /// The order of the last text run that added text to the current block's last segment.
    last_run: u32,
    current: Option<Block>,
    /// Index of the link whose text is being read.
    link: Option<usize>,
    /// `aria-label` or `title` of that link, its text when it has none of its own.
    link_fallback: String,
    frames: Vec<Frame>,
    skip_depth: usize,
    facts: Facts,
}

impl Builder<'_> {
    fn next_order(&mut self) -> u32 {
        self.order += 1;
        self.order
    }

    /// Whether content directly inside the innermost open element is hidden, and by what.
    fn inside_hidden(&self) -> Option<HiddenBy> {
        let f = self.frames.last()?;
        f.hidden
            .or(f.closed_details.then_some(HiddenBy::ClosedDetails))
    }

    fn open(&mut self, el: &Elem<'_>, line: u32, inline_text: impl FnOnce() -> String) {
        // A `<title>` is read here and then skipped below like any element whose content is not text.
        self.facts
            .element(&mut self.page, self.rules, el, line, inline_text);
        let name = el.name();
        if is_skipped(el.local()) {
            self.skip_depth = 1;
            return;
        }
        let parent_closed_details = self.frames.last().is_some_and(|f| f.closed_details);
        let hidden = self
            .frames
            .last()
            .and_then(|f| f.hidden)
            .or((parent_closed_details && name != "summary").then_some(HiddenBy::ClosedDetails))
            .or_else(|| self.hiding.hides(el));
        let line = match line {
            0 => self.frames.last().map_or(0, |f| f.line),
            line => line,
        };
        let block = is_block(el.local());
        if block {
            self.flush();
        }
        if name == "br"
            && let Some(block) = self.current.as_mut()
        {
            let trimmed = block.text.trim_end_matches(' ').len();
            block.text.truncate(trimmed);
            if !block.text.is_empty() && !block.text.ends_with('\n') {
                block.text.push('\n');
            }
        }
        let is_link = matches!(name, "a" | "area") && self.link.is_none();
        if is_link && let Some(href) = el.attr(&local_name!("href")) {
            let url = resolve(self.page.base.as_ref(), href);
            let order = self.next_order();
            let fallback = el
                .attr(&local_name!("aria-label"))
                .or_else(|| el.attr(&local_name!("title")))
                .or_else(|| {
                    (name == "area")
                        .then(|| el.attr(&local_name!("alt")))
                        .flatten()
                })
                .unwrap_or("");
            self.page.links.push(Link {
                href: href.trim().to_string(),
                url,
                rel: el
                    .attr(&local_name!("rel"))
                    .unwrap_or("")
                    .split_ascii_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect(),
                text: String::new(),
                line,
                order,
                visibility: if hidden.is_some() {
                    Visibility::Hidden
                } else {
                    Visibility::Visible
                },
            });
            self.link = Some(self.page.links.len() - 1);
            self.link_fallback = collapse(fallback);
        } else if name == "img"
            && let Some(i) = self.link
            && let Some(alt) = el.attr(&local_name!("alt"))
        {
            let link = &mut self.page.links[i];
            if !link.text.is_empty() && !link.text.ends_with(' ') && !alt.trim().is_empty() {
                link.text.push(' ');
            }
            link.text.push_str(&collapse(alt));
        }
        self.frames.push(Frame {
            hidden,
            line,
            closed_details: name == "details" && el.attr(&local_name!("open")).is_none(),
            block,
            link: is_link && el.attr(&local_name!("href")).is_some(),
        });
    }

    fn close(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        if frame.link
            && let Some(i) = self.link.take()
        {
            let link = &mut self.page.links[i];
            link.text = link.text.trim().to_string();
            if link.text.is_empty() {
                link.text = std::mem::take(&mut self.link_fallback);
            }
        }
        if frame.block {
            self.flush();
        }
    }

    fn text(&mut self, text: &str) {
        let hidden = self.inside_hidden();
        self.push_text(text, hidden);
    }

    fn push_text(&mut self, text: &str, hidden: Option<HiddenBy>) {
        let visibility = if hidden.is_some() {
            Visibility::Hidden
        } else {
            Visibility::Visible
        };
        if self
            .current
            .as_ref()
            .is_some_and(|b| b.visibility != visibility)
        {
            self.flush();
        }
        if let Some(i) = self.link {
            append_collapsed(&mut self.page.links[i].text, text);
        }
        let order = self.next_order();
        let link = self.link;
        let line = self.frames.last().map_or(0, |f| f.line);
        let block = self.current.get_or_insert_with(|| Block {
            text: String::new(),
            visibility,
            hidden_by: hidden,
            line,
            segments: Vec::new(),
        });
        let offset = block.text.len();
        append_collapsed(&mut block.text, text);
        if block.text.len() > offset {
            // The segment starts at the first character this run added (after a collapsed space).
            let start = if block.text[offset..].starts_with(' ') {
                offset + 1
            } else {
                offset
            };
            // A block's text past 4 GiB (never on a page within any sane size cap) gets no
            // segment rather than a wrong one.
            let link = link.and_then(|i| u32::try_from(i).ok());
            // A run straight after one of the same link (or of no link), with nothing numbered
            // between them, extends that segment: no link's order falls between the two, so
            // every "before the link" comparison stays the same, and text in many small inline
            // elements (`<b>x</b>` repeated) keeps one segment instead of one per run.
            let extends = block
                .segments
                .last()
                .is_some_and(|s| s.link == link && self.last_run + 1 == order);
            if extends {
                self.last_run = order;
            } else if let Ok(offset) = u32::try_from(start.min(block.text.len())) {
                block.segments.push(Segment {
                    offset,
                    order,
                    link,
                });
                self.last_run = order;
            }
        }
    }

    fn flush(&mut self) {
        if let Some(mut block) = self.current.take() {
            let trimmed = block.text.trim_end().len();
            block.text.truncate(trimmed);
            block.segments.retain(|s| (s.offset as usize) < trimmed);
            if !block.text.trim().is_empty() && !block.segments.is_empty() {
                // Growth left up to half of each buffer unused; pages dense in small blocks
                // would otherwise keep it all.
                block.text.shrink_to_fit();
                block.segments.shrink_to_fit();
                self.page.blocks.push(block);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::page::test_page as page;

    #[test]
    fn inline_elements_fold_into_one_block() {
        let p = page("<p>We <strong>may&nbsp;earn</strong>   a commission</p><p>Next</p>");
        assert_eq!(p.blocks[0].text, "We may earn a commission");
        assert_eq!(p.blocks[1].text, "Next");
    }

    #[test]
    fn links_resolve_and_keep_lines_and_order() {
        let p = page(
            "<p>Intro</p>\n<p>\n<a href=\"/go/x\" rel=\"Nofollow Sponsored\">Buy &amp; save</a></p>\n<a href=\"https://a.example/?a=1&amp;b=2\">B</a>",
        );
        assert_eq!(p.links.len(), 2);
        assert_eq!(
            p.links[0].url.as_ref().unwrap().as_str(),
            "https://site.example/go/x"
        );
        assert_eq!(p.links[0].line, 3);
        assert_eq!(p.links[0].text, "Buy & save");
        assert!(p.links[0].is_sponsored());
        assert_eq!(
            p.links[1].url.as_ref().unwrap().as_str(),
            "https://a.example/?a=1&b=2"
        );
        assert_eq!(p.links[1].line, 4);
        assert!(p.blocks[0].order_at(0) < p.links[0].order);
        assert!(p.links[0].order < p.links[1].order);
    }

    #[test]
    fn comments_scripts_templates_hold_no_links_or_text() {
        let p = page(
            "<!-- <a href=\"https://x.example/\">c</a> --><script>var a='<a href=\"https://y.example/\">s</a>';</script><template><a href=\"https://z.example/\">t</a><p>We earn</p></template><style>p{}</style><p>Body</p>",
        );
        assert!(p.links.is_empty(), "{:?}", p.links);
        assert_eq!(p.blocks.len(), 1);
        assert_eq!(p.blocks[0].text, "Body");
    }

    #[test]
    fn image_alt_names_an_image_link() {
        let p = page("<a href=\"https://x.example/\"><img src=\"a.png\" alt=\"Buy the tent\"></a>");
        assert_eq!(p.links[0].text, "Buy the tent");
    }

    #[test]
    fn br_breaks_sentences_inside_a_block() {
        let p = page("<p>Werbung<br>Neu im Test</p>");
        assert_eq!(p.blocks[0].text, "Werbung\nNeu im Test");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = "<div>".repeat(3_000) + "<a href=\"https://x.example/\">deep</a>";
        let p = page(&html);
        assert_eq!(p.links.len(), 1);
    }
}
