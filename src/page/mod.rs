//! The *page* stage: a parsed document as a reading-order stream of text blocks and links, each with
//! its visibility and position, plus the monetization scripts it loads.
//!
//! Reading order is document order of the parsed DOM. Every text run and every link gets an `order`
//! number from one counter, so "does this disclosure start before that link" is a comparison of two
//! numbers. Nothing inside comments, `<script>`, `<style>`, `<template>` and similar elements is text
//! or a link.
//!
//! [`parse`] runs the parts in turn: `sink` builds the compact `tree` as html5ever directs and
//! records source lines (behind `depth`, which caps how deeply elements nest), `visibility` reads
//! the page's hiding rules, `walk` builds blocks and links (handing head elements to `facts`), and
//! `lines` moves each link to the line its tag starts on. `dom` holds the small readers they share.

mod depth;
mod dom;
mod facts;
mod lines;
mod sink;
mod tree;
mod visibility;
mod walk;

use html5ever::local_name;
use url::Url;

use crate::document::{Document, Skip};
use crate::rules::{Ruleset, SiteNames};

/// Whether a reader can see a piece of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Rendered for every reader.
    Visible,
    /// Hidden by an inline style, the `hidden` attribute, a visually-hidden class, a hiding rule in
    /// the page's own CSS, or a closed `<details>`.
    Hidden,
}

/// A run of text inside a block that starts at `offset` in the block's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Byte offset in [`Block::text`] (32 bits: a page has one segment per text run, so their
    /// size counts on pages dense in runs).
    pub offset: u32,
    /// Position in reading order.
    pub order: u32,
    /// Index in [`Page::links`] when the run is link text.
    pub link: Option<u32>,
}

/// The text of one block-level element (paragraph, list item, cell, …), with inline elements folded
/// in and white space collapsed. A block has one visibility: a hidden inline element starts a block of
/// its own.
#[derive(Debug, Clone)]
pub struct Block {
    /// The text, white space collapsed to single spaces (line breaks from `<br>` kept as `\n`).
    pub text: String,
    /// Whether readers see it.
    pub visibility: Visibility,
    /// What hides it, when it is hidden.
    pub hidden_by: Option<HiddenBy>,
    /// The source line of the element it is the text of, when the page was parsed with
    /// [`parse_with_lines`]; 0 otherwise.
    pub line: u32,
    /// Where each run of text starts, in order.
    pub segments: Vec<Segment>,
}

/// What hides a hidden block or link: the element that hides it (or the nearest hidden ancestor)
/// and the rule it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HiddenBy {
    /// The `hidden` attribute.
    Attribute,
    /// An inline style that hides (`display:none`, `visibility:hidden`, `font-size:0` …; the
    /// rules' hiding styles).
    Style,
    /// A visually-hidden class of the rules (`sr-only`, `screen-reader-text` …).
    Class,
    /// A class the page's own `<style>` hides.
    PageStyle,
    /// Inside a closed `<details>` (shown only when a reader opens it).
    ClosedDetails,
}

impl HiddenBy {
    /// A short explanation for people.
    pub fn describe(self) -> &'static str {
        match self {
            HiddenBy::Attribute => "the hidden attribute",
            HiddenBy::Style => "an inline style that hides it",
            HiddenBy::Class => "a visually-hidden class",
            HiddenBy::PageStyle => "a class the page's own style sheet hides",
            HiddenBy::ClosedDetails => "a closed <details> element (shown only when opened)",
        }
    }
}

impl Block {
    /// The reading-order position of the text at byte `offset`.
    pub fn order_at(&self, offset: usize) -> u32 {
        let i = self
            .segments
            .partition_point(|s| s.offset as usize <= offset);
        self.segments[i.saturating_sub(1)].order
    }

    /// Whether every run of text in `range` is link text.
    pub fn all_link_text(&self) -> bool {
        self.segments.iter().all(|s| s.link.is_some())
    }
}

/// A link (`<a href>` or `<area href>`).
#[derive(Debug, Clone)]
pub struct Link {
    /// The `href` as written (entities decoded).
    pub href: String,
    /// The absolute URL, when `href` resolves.
    pub url: Option<Url>,
    /// The `rel` tokens, lower-cased.
    pub rel: Vec<String>,
    /// The link text (white space collapsed), or the `alt` of an image inside it, or `aria-label`
    /// or `title`.
    pub text: String,
    /// 1-based source line of the tag.
    pub line: u32,
    /// Position in reading order.
    pub order: u32,
    /// Whether readers see it.
    pub visibility: Visibility,
}

impl Link {
    /// Whether `rel` contains `sponsored`.
    pub fn is_sponsored(&self) -> bool {
        self.rel.iter().any(|r| r == "sponsored")
    }
}

/// A monetization script the page loads.
#[derive(Debug, Clone)]
pub struct ScriptUse {
    /// Product name from the rules.
    pub name: String,
    /// The script's URL; empty for an inline snippet.
    pub url: String,
    /// 1-based source line of the `<script>` tag.
    pub line: u32,
}

/// A parsed page.
#[derive(Debug, Clone)]
pub struct Page {
    /// What the report shows as `page_url`.
    pub display: String,
    /// The URL links were resolved against (after any `<base href>`).
    pub base: Option<Url>,
    /// Text blocks in reading order.
    pub blocks: Vec<Block>,
    /// Links in reading order.
    pub links: Vec<Link>,
    /// Monetization scripts found.
    pub scripts: Vec<ScriptUse>,
    /// `<link rel=canonical>`, resolved.
    pub canonical: Option<Url>,
    /// `<link rel=next>` targets, resolved (for crawlers following paginated series).
    pub rel_next: Vec<Url>,
    /// `<html lang>`.
    pub lang: Option<String>,
    /// The site's own names, as the page states them: `og:site_name`, `application-name`, the
    /// JSON-LD `WebSite` / `Organization` / `publisher` name, the `<title>` part after a
    /// separator ("… | Trusted Reviews") and the host's registrable name (`trustedreviews`).
    pub site_names: SiteNames,
    /// How many elements sat deeper than 512 levels and were closed at once, their content
    /// following them, as browsers build such markup (0 on every ordinary page).
    pub flattened: usize,
}

/// Parses a document into a [`Page`]. Markup that builds far more elements than its size allows
/// (see [`Skip::TooManyElements`]) is refused rather than audited in part.
pub fn parse(doc: &Document, rules: &Ruleset) -> Result<Page, Skip> {
    parse_with(doc, rules, false)
}

/// [`parse`], also giving every block the source line of its element ([`Block::line`]), as
/// `affcheck explain` shows; this costs a map entry per element, so audits do without.
pub fn parse_with_lines(doc: &Document, rules: &Ruleset) -> Result<Page, Skip> {
    parse_with(doc, rules, true)
}

fn parse_with(doc: &Document, rules: &Ruleset, block_lines: bool) -> Result<Page, Skip> {
    let decoded = doc.decode();
    let depth::Parsed {
        tree,
        lines: tag_lines,
        flattened,
        over_budget,
    } = depth::parse_with(decoded.text.as_ref(), block_lines);
    if over_budget {
        return Err(Skip::TooManyElements(depth::node_budget(
            decoded.text.len(),
        )));
    }
    let hiding = visibility::Hiding::new(&tree, rules);
    let page = Page {
        display: doc.display.clone(),
        base: doc.base.clone(),
        blocks: Vec::new(),
        links: Vec::with_capacity(tree.count_elements(&[local_name!("a"), local_name!("area")])),
        scripts: Vec::new(),
        canonical: None,
        rel_next: Vec::new(),
        lang: None,
        site_names: SiteNames::new(),
        flattened,
    };
    let mut page = walk::walk(&tree, &tag_lines, rules, hiding, page);
    facts::add_host_name(&mut page);
    lines::fix_tag_start_lines(&decoded.text, &mut page);
    Ok(page)
}

/// Parses `html` as the page `https://site.example/post/` with the default rules (for the tests of
/// every part of the page stage).
#[cfg(test)]
fn test_page(html: &str) -> Page {
    let rules = Ruleset::defaults().unwrap();
    let doc = Document {
        display: "test.html".into(),
        base: Some(Url::parse("https://site.example/post/").unwrap()),
        bytes: html.as_bytes().to_vec(),
        content_type: None,
    };
    parse(&doc, &rules).unwrap()
}
