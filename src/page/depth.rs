//! Parsing with a cap on element nesting, so that hostile markup cannot make a parse quadratic.
//!
//! html5ever's tree builder rescans its stack of open elements for many start tags ("is a `<p>` in
//! button scope?"), so a page of N nested `<div>`s costs O(N²): 100,000 of them took a minute.
//! Browsers cap the tree instead: Chromium attaches an element that would sit deeper than 512
//! levels to its parent's parent, so the tree never grows deeper. [`DepthLimit`] does the same
//! between the tokenizer and the tree builder: a start tag whose element lands at depth
//! [`MAX_DEPTH`] is closed again at once (its content then follows it as siblings, as in
//! Chromium), and the page's own end tag for it is dropped later. The tree builder's stack so stays
//! at most about [`MAX_DEPTH`] deep and every scan is bounded. Pages that nest less deeply, which
//! is every real page, parse exactly as before.

use std::cell::{Cell, RefCell};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, EndTag, StartTag, Tag, TagToken, Token, TokenSink, TokenSinkResult, Tokenizer,
};
use html5ever::tree_builder::{TreeBuilder, TreeSink};
use html5ever::{LocalName, ParseOpts, TokenizerResult, local_name};
use rustc_hash::FxHashMap;

use super::sink::LineSink;
use super::tree::{NodeId, Tree};

/// The deepest an element may sit in the tree (the document is depth 0), as in Chromium.
pub(crate) const MAX_DEPTH: u32 = 512;

/// What [`parse`] returns: the tree and source lines from [`LineSink`], how many elements were
/// flattened because they sat deeper than [`MAX_DEPTH`], and whether the tree outgrew
/// [`node_budget`] (the parse then stopped).
pub(crate) struct Parsed {
    pub(crate) tree: Tree,
    pub(crate) lines: FxHashMap<NodeId, u32>,
    pub(crate) flattened: usize,
    pub(crate) over_budget: bool,
}

/// The most nodes a page of `len` bytes may build: one per byte, plus room for small pages.
///
/// Markup writes at most one node per two or three bytes (`<p>x`, `<table><td>x`), but the
/// tree builder re-creates every still-active formatting element (`<b>`, `<font>`, … with
/// different attributes) each time text follows a block that closed them: 30 KB of
/// `<div>x</div>` after 500 such tags built a million elements, and 1 MB would build 40 million
/// (seconds and gigabytes). No real page comes near the budget.
pub(crate) fn node_budget(len: usize) -> usize {
    len.saturating_add(100_000)
}

/// How much of the text the tokenizer is handed at a time: feeding it the whole page would copy
/// the page once more.
const CHUNK: usize = 64 * 1024;

/// Parses `text` as an HTML document with element depth capped at [`MAX_DEPTH`].
#[cfg(test)]
pub(crate) fn parse(text: &str) -> Parsed {
    parse_with(text, false)
}

/// [`parse`], recording the source line of every element when `every_line` (else of links,
/// areas and scripts only).
pub(crate) fn parse_with(text: &str, every_line: bool) -> Parsed {
    let opts = ParseOpts::default();
    let budget = node_budget(text.len());
    let builder = TreeBuilder::new(LineSink::new(text, budget, every_line), opts.tree_builder);
    let tokenizer = Tokenizer::new(DepthLimit::new(builder, budget), opts.tokenizer);
    let input = BufferQueue::default();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = CHUNK.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        input.push_back(StrTendril::from_slice(chunk));
        // Scripts are not run and the encoding is already decided, so those pauses are resumed.
        while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {}
        if tokenizer.sink.over_budget.get() {
            break;
        }
    }
    tokenizer.end();
    let flattened = tokenizer.sink.flattened.get();
    let over_budget = tokenizer.sink.over_budget.get();
    let (tree, lines) = tokenizer.sink.inner.sink.finish();
    Parsed {
        tree,
        lines,
        flattened,
        over_budget,
    }
}

/// A token sink in front of the tree builder that closes elements nested too deeply.
struct DepthLimit {
    inner: TreeBuilder<NodeId, LineSink>,
    /// Names of the elements closed early, innermost last, whose own end tags are still to come.
    closed_early: RefCell<Vec<LocalName>>,
    /// How many of each name `closed_early` holds, so an end tag finds out in O(1) whether it
    /// belongs to one of them.
    counts: RefCell<FxHashMap<LocalName, usize>>,
    flattened: Cell<usize>,
    /// The most nodes the tree may hold ([`node_budget`]).
    budget: usize,
    /// Set once the tree holds more: every later token is dropped.
    over_budget: Cell<bool>,
}

impl DepthLimit {
    fn new(inner: TreeBuilder<NodeId, LineSink>, budget: usize) -> Self {
        DepthLimit {
            inner,
            closed_early: RefCell::new(Vec::new()),
            counts: RefCell::new(FxHashMap::default()),
            flattened: Cell::new(0),
            budget,
            over_budget: Cell::new(false),
        }
    }

    /// Whether an end tag named `name` closes an element closed early; if so it is consumed.
    fn consume_end_tag(&self, name: &LocalName) -> bool {
        let mut counts = self.counts.borrow_mut();
        if counts.get(name).is_none_or(|&n| n == 0) {
            return false;
        }
        // The end tag closes the innermost early-closed element of that name and, as a browser
        // would, every early-closed element opened inside it.
        let mut stack = self.closed_early.borrow_mut();
        while let Some(top) = stack.pop() {
            if let Some(n) = counts.get_mut(&top) {
                *n -= 1;
            }
            if top == *name {
                break;
            }
        }
        true
    }
}

/// Elements never closed early: the tokenizer or the insertion mode changes when they open (raw
/// text, tables, selects, templates, foreign content, the document's own elements), and `<a>`,
/// whose text must stay link text. None of them can pile up on the stack by themselves.
fn keeps_nesting(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("html")
            | local_name!("head")
            | local_name!("body")
            | local_name!("frameset")
            | local_name!("frame")
            | local_name!("script")
            | local_name!("style")
            | local_name!("textarea")
            | local_name!("title")
            | local_name!("xmp")
            | local_name!("iframe")
            | local_name!("noembed")
            | local_name!("noframes")
            | local_name!("noscript")
            | local_name!("plaintext")
            | local_name!("template")
            | local_name!("table")
            | local_name!("caption")
            | local_name!("colgroup")
            | local_name!("col")
            | local_name!("tbody")
            | local_name!("thead")
            | local_name!("tfoot")
            | local_name!("tr")
            | local_name!("td")
            | local_name!("th")
            | local_name!("select")
            | local_name!("option")
            | local_name!("optgroup")
            | local_name!("svg")
            | local_name!("math")
            | local_name!("a")
    )
}

impl TokenSink for DepthLimit {
    type Handle = NodeId;

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<Self::Handle> {
        if self.over_budget.get() {
            return TokenSinkResult::Continue;
        }
        if self.inner.sink.node_count() > self.budget {
            self.over_budget.set(true);
            return TokenSinkResult::Continue;
        }
        let TagToken(tag) = &token else {
            return self.inner.process_token(token, line);
        };
        match tag.kind {
            EndTag => {
                if self.consume_end_tag(&tag.name) {
                    TokenSinkResult::Continue
                } else {
                    self.inner.process_token(token, line)
                }
            }
            StartTag => {
                let name = tag.name.clone();
                let self_closing = tag.self_closing;
                let sink = &self.inner.sink;
                let last_id = |s: &LineSink| s.last_element().as_ref().map(|c| c.id);
                let before = last_id(sink);
                let result = self.inner.process_token(token, line);
                if last_id(sink) == before || keeps_nesting(&name) {
                    return result;
                }
                // Only the element this very tag opened, while it is still the current node: void
                // HTML elements and self-closing foreign ones are never on the stack.
                let deep = sink.last_element().as_ref().is_some_and(|created| {
                    created.name == name
                        && !created.void
                        && (created.html || !self_closing)
                        && sink.depth(created.id, MAX_DEPTH) >= MAX_DEPTH
                });
                if deep {
                    self.flattened.set(self.flattened.get() + 1);
                    let end = Tag {
                        kind: EndTag,
                        name: name.clone(),
                        self_closing: false,
                        attrs: Vec::new(),
                        had_duplicate_attributes: false,
                    };
                    let _ = self.inner.process_token(TagToken(end), line);
                    self.closed_early.borrow_mut().push(name.clone());
                    *self.counts.borrow_mut().entry(name).or_insert(0) += 1;
                }
                result
            }
        }
    }

    fn end(&self) {
        self.inner.end()
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.inner
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ancestors(tree: &Tree, id: NodeId) -> usize {
        std::iter::successors(tree.parent(id), |&p| tree.parent(p)).count()
    }

    fn depth_of_deepest(tree: &Tree) -> usize {
        tree.descendants(tree.root())
            .map(|n| ancestors(tree, n))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn ordinary_nesting_is_left_alone() {
        let text = format!("{}x{}", "<div>".repeat(400), "</div>".repeat(400));
        let parsed = parse(&text);
        assert_eq!(parsed.flattened, 0);
        // html > body > 400 divs > text
        assert_eq!(depth_of_deepest(&parsed.tree), 403);
    }

    #[test]
    fn the_tree_never_grows_deeper_than_the_cap() {
        let n = 5_000;
        let text = format!(
            "{}<p>deep text</p>{}<p>after</p>",
            "<div><span>".repeat(n),
            "</span></div>".repeat(n)
        );
        let parsed = parse(&text);
        assert!(parsed.flattened > 0);
        assert!(depth_of_deepest(&parsed.tree) <= MAX_DEPTH as usize + 1);
        let body_text = parsed.tree.element_text(parsed.tree.root());
        assert_eq!(body_text, "deep textafter");
        // The page's own end tags for flattened elements were consumed, so "after" is a child of
        // <body>, as in a browser.
        let tree = &parsed.tree;
        let after = tree
            .descendants(tree.root())
            .find(|&n| tree.text(n) == Some("after"))
            .unwrap();
        assert_eq!(ancestors(tree, after), 4); // p, body, html, document
    }
}

#[cfg(test)]
mod page_tests {
    use crate::page::{Visibility, test_page as page};

    #[test]
    fn a_page_nested_far_too_deeply_keeps_its_disclosure_and_links() {
        let n = 20_000;
        let html = format!(
            "{}<p>We earn a commission from links on this page.</p>\
             <p><a href=\"https://www.amazon.com/dp/B01?tag=x-20\">Buy it</a></p>{}",
            "<div>".repeat(n),
            "</div>".repeat(n)
        );
        let p = page(&html);
        assert!(p.flattened >= n - 600, "flattened {}", p.flattened);
        assert_eq!(p.links.len(), 1);
        assert_eq!(p.links[0].text, "Buy it");
        let texts: Vec<&str> = p.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(
            texts,
            ["We earn a commission from links on this page.", "Buy it"]
        );
    }

    #[test]
    fn content_flattened_under_a_hidden_element_stays_hidden() {
        let html = format!(
            "<div style=\"display:none\">{}<a href=\"/go/x\">hidden deal</a></div>\
             <p><a href=\"/go/y\">seen deal</a></p>",
            "<span>".repeat(2_000)
        );
        let p = page(&html);
        assert!(p.flattened > 0);
        let vis: Vec<(&str, Visibility)> = p
            .links
            .iter()
            .map(|l| (l.text.as_str(), l.visibility))
            .collect();
        assert_eq!(
            vis,
            [
                ("hidden deal", Visibility::Hidden),
                ("seen deal", Visibility::Visible)
            ]
        );
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    /// Text after closed blocks re-creates every formatting element still active: `n` units of
    /// `<div>x</div>` after `tags` different `<b>` tags build about `n × tags` elements.
    fn reopening(tags: usize, n: usize) -> String {
        let open: String = (0..tags).map(|i| format!("<b class=c{i}>")).collect();
        format!("<div>{open}</div>{}", "<div>x</div>".repeat(n))
    }

    #[test]
    fn markup_that_multiplies_elements_stops_at_the_budget() {
        let text = reopening(500, 20_000);
        let parsed = parse(&text);
        assert!(parsed.over_budget);
        // One token may still re-create the whole list of formatting elements.
        let nodes = parsed.tree.nodes.len();
        assert!(nodes <= node_budget(text.len()) + 1_000, "{nodes} nodes");
    }

    #[test]
    fn the_densest_ordinary_markup_is_within_the_budget() {
        for text in [
            "<table><td>x".repeat(50_000),
            "<p>x".repeat(100_000),
            "<b>x</b>".repeat(100_000),
            "x<br>".repeat(100_000),
            "<li><a href=/go/x>x</a>".repeat(50_000),
            reopening(3, 50_000),
        ] {
            let parsed = parse(&text);
            assert!(!parsed.over_budget, "{}…", &text[..40]);
        }
    }
}
