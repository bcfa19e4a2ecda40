//! The tree sink: builds the page's compact [`Tree`] as html5ever's tree builder directs, and
//! remembers the source line of chosen elements.
//!
//! The report must give the 1-based source line of every link, so the line html5ever reports when
//! a link, area or script element is created is recorded beside the tree.

use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};

use html5ever::tendril::StrTendril;
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, LocalName, QualName, expanded_name, local_name, ns};

use super::tree::{Kind, NONE, Node, NodeId, Tree, is_kept_attr};

/// Builds a [`Tree`] and a map from element to source line for links, areas and scripts.
pub(crate) struct LineSink {
    tree: RefCell<Tree>,
    /// Index of each element name in the tree's name table.
    name_ids: RefCell<FxHashMap<QualName, u32>>,
    line: Cell<u64>,
    lines: RefCell<FxHashMap<NodeId, u32>>,
    /// Record the line of every element, not only of links, areas and scripts.
    every_line: bool,
    /// The element created last.
    last: RefCell<Option<Created>>,
    known_depths: Cell<Option<KnownDepth>>,
}

/// An element as created, for the depth limit in front of the tree builder.
pub(crate) struct Created {
    pub(crate) id: NodeId,
    pub(crate) name: LocalName,
    /// Whether it is in the HTML namespace.
    pub(crate) html: bool,
    /// Whether it is a void HTML element (`<br>`, `<img>`, …), never on the stack of open elements.
    pub(crate) void: bool,
}

impl LineSink {
    /// A sink for the document `text`, which may build at most `budget` nodes; `every_line` records
    /// the line of every element.
    pub(crate) fn new(text: &str, budget: usize, every_line: bool) -> Self {
        LineSink {
            tree: RefCell::new(Tree::new(text, budget)),
            name_ids: RefCell::new(FxHashMap::default()),
            line: Cell::new(1),
            lines: RefCell::new(FxHashMap::default()),
            every_line,
            last: RefCell::new(None),
            known_depths: Cell::new(None),
        }
    }

    /// How many nodes the tree holds.
    pub(crate) fn node_count(&self) -> usize {
        self.tree.borrow().nodes.len()
    }

    /// The element created last.
    pub(crate) fn last_element(&self) -> std::cell::Ref<'_, Option<Created>> {
        self.last.borrow()
    }

    /// How many ancestors `id` has (the document counts), up to `cap`. The depth of the element
    /// asked about before, and of its parent, are remembered: runs of nested elements and runs
    /// of siblings, the shapes deep markup takes, then cost O(1) each instead of a walk.
    pub(crate) fn depth(&self, id: NodeId, cap: u32) -> u32 {
        let tree = self.tree.borrow();
        let parent = tree.parent(id);
        let known = self.known_depths.get();
        let depth = match (parent, known) {
            (Some(p), Some(k)) if p == k.id => k.depth.saturating_add(1),
            (Some(p), Some(k)) if Some(p) == k.parent => k.depth,
            _ => {
                let mut depth = 0;
                let mut up = parent;
                while let Some(p) = up
                    && depth < cap
                {
                    depth += 1;
                    up = tree.parent(p);
                }
                depth
            }
        };
        let depth = depth.min(cap);
        self.known_depths
            .set(Some(KnownDepth { id, depth, parent }));
        depth
    }

    /// The index of `name` in the tree's name table, adding it if new.
    fn name_id(&self, name: QualName) -> u32 {
        let mut ids = self.name_ids.borrow_mut();
        if let Some(&id) = ids.get(&name) {
            return id;
        }
        let mut tree = self.tree.borrow_mut();
        let id = u32::try_from(tree.names.len()).unwrap_or(NONE - 1);
        tree.names.push(name.clone());
        ids.insert(name, id);
        id
    }
}

/// The depth of one element and its parent, as [`LineSink::depth`] last computed it.
#[derive(Clone, Copy)]
struct KnownDepth {
    id: NodeId,
    depth: u32,
    parent: Option<NodeId>,
}

/// HTML elements with no content and no end tag.
fn is_void(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("area")
            | local_name!("base")
            | local_name!("basefont")
            | local_name!("bgsound")
            | local_name!("br")
            | local_name!("col")
            | local_name!("embed")
            | local_name!("frame")
            | local_name!("hr")
            | local_name!("img")
            | local_name!("input")
            | local_name!("keygen")
            | local_name!("link")
            | local_name!("meta")
            | local_name!("param")
            | local_name!("source")
            | local_name!("track")
            | local_name!("wbr")
    )
}

/// Drops the attributes the page stage never reads.
fn keep_read_attrs(attrs: &mut Vec<Attribute>) {
    attrs.retain(|a| a.name.ns == ns!() && is_kept_attr(&a.name.local));
    attrs.shrink_to_fit();
}

/// Tree edits in the terms the tree builder asks for.
impl Tree {
    /// Makes `child` (detached) the last child of `parent`.
    fn append_child(&mut self, parent: NodeId, child: NodeId) {
        let first = self.nodes[parent as usize].first_child;
        if first == NONE {
            self.nodes[parent as usize].first_child = child;
            self.nodes[child as usize].prev = child;
        } else {
            let last = self.nodes[first as usize].prev;
            self.nodes[last as usize].next = child;
            self.nodes[child as usize].prev = last;
            self.nodes[first as usize].prev = child;
        }
        let node = &mut self.nodes[child as usize];
        node.parent = parent;
        node.next = NONE;
    }

    /// Puts `node` (detached) right before `sibling`, which has a parent.
    fn insert_before(&mut self, sibling: NodeId, node: NodeId) {
        let parent = self.nodes[sibling as usize].parent;
        let prev = self.nodes[sibling as usize].prev;
        if self.nodes[parent as usize].first_child == sibling {
            self.nodes[parent as usize].first_child = node;
        } else {
            self.nodes[prev as usize].next = node;
        }
        // `prev` is the previous sibling, or the last child when `sibling` was the first.
        let n = &mut self.nodes[node as usize];
        n.prev = prev;
        n.next = sibling;
        n.parent = parent;
        self.nodes[sibling as usize].prev = node;
    }

    /// Takes `id` out of its parent's children.
    fn detach(&mut self, id: NodeId) {
        let Node {
            parent, next, prev, ..
        } = self.nodes[id as usize];
        if parent == NONE {
            return;
        }
        let first = self.nodes[parent as usize].first_child;
        if first == id {
            self.nodes[parent as usize].first_child = next;
            if next != NONE {
                // The new first child points back at the last one.
                self.nodes[next as usize].prev = prev;
            }
        } else {
            self.nodes[prev as usize].next = next;
            let after = if next == NONE { first } else { next };
            self.nodes[after as usize].prev = prev;
        }
        let node = &mut self.nodes[id as usize];
        node.parent = NONE;
        node.next = NONE;
        node.prev = NONE;
    }

    /// Appends `text` to the text node `id` if its text ends the shared buffer, so that adjacent
    /// runs merge as in any DOM; otherwise (a rare interleaving, such as text fostered out of a
    /// table) the caller makes a new node, and copying is never repeated.
    fn extend_text(&mut self, id: Option<NodeId>, text: &str) -> bool {
        let Some(id) = id.filter(|&id| self.kind(id) == Kind::Text) else {
            return false;
        };
        let node = self.nodes[id as usize];
        let end = node.a as usize + node.b as usize;
        let Ok(len) = u32::try_from(node.b as usize + text.len()) else {
            return false;
        };
        if end != self.text.len() {
            return false;
        }
        self.text.push_str(text);
        self.nodes[id as usize].b = len;
        true
    }

    /// A new detached text node, or `None` when the page's text outgrows 4 GiB.
    fn new_text(&mut self, text: &str) -> Option<NodeId> {
        let start = u32::try_from(self.text.len()).ok()?;
        let len = u32::try_from(text.len()).ok()?;
        start.checked_add(len)?;
        self.text.push_str(text);
        Some(self.push(Kind::Text, Node::new(start, len)))
    }
}

impl TreeSink for LineSink {
    type Handle = NodeId;
    type Output = (Tree, FxHashMap<NodeId, u32>);
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Self::Output {
        (self.tree.into_inner(), self.lines.into_inner())
    }

    fn set_current_line(&self, line_number: u64) {
        self.line.set(line_number);
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> NodeId {
        0
    }

    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Ref<'a, QualName> {
        Tree::name_ref(self.tree.borrow(), *target)
    }

    fn create_element(&self, name: QualName, mut attrs: Vec<Attribute>, _: ElementFlags) -> NodeId {
        keep_read_attrs(&mut attrs);
        let html = name.ns == ns!(html);
        let local = name.local.clone();
        let template = name.expanded() == expanded_name!(html "template");
        let name = self.name_id(name);
        let mut tree = self.tree.borrow_mut();
        let attrs = if attrs.is_empty() {
            NONE
        } else {
            tree.attrs.push(attrs);
            u32::try_from(tree.attrs.len() - 1).unwrap_or(NONE)
        };
        let id = tree.push(Kind::Element, Node::new(name, attrs));
        if template {
            // The template's contents: a fragment under the element, as scraper keeps them.
            let fragment = tree.push(Kind::Other, Node::new(NONE, NONE));
            tree.append_child(id, fragment);
        }
        drop(tree);
        if self.every_line
            || matches!(
                local,
                local_name!("a") | local_name!("area") | local_name!("script")
            )
        {
            let line = u32::try_from(self.line.get()).unwrap_or(u32::MAX);
            self.lines.borrow_mut().insert(id, line);
        }
        *self.last.borrow_mut() = Some(Created {
            id,
            void: html && is_void(&local),
            name: local,
            html,
        });
        id
    }

    fn create_comment(&self, _text: StrTendril) -> NodeId {
        self.tree
            .borrow_mut()
            .push(Kind::Other, Node::new(NONE, NONE))
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> NodeId {
        self.tree
            .borrow_mut()
            .push(Kind::Other, Node::new(NONE, NONE))
    }

    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        let mut tree = self.tree.borrow_mut();
        match child {
            NodeOrText::AppendNode(id) => {
                tree.detach(id);
                tree.append_child(*parent, id);
            }
            NodeOrText::AppendText(text) => {
                let last = tree.last_child(*parent);
                if !tree.extend_text(last, &text)
                    && let Some(id) = tree.new_text(&text)
                {
                    tree.append_child(*parent, id);
                }
            }
        }
    }

    fn append_based_on_parent_node(
        &self,
        element: &NodeId,
        prev_element: &NodeId,
        child: NodeOrText<NodeId>,
    ) {
        let has_parent = self.tree.borrow().parent(*element).is_some();
        if has_parent {
            self.append_before_sibling(element, child)
        } else {
            self.append(prev_element, child)
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        let tree = self.tree.borrow();
        tree.first_child(*target)
            .filter(|&c| tree.kind(c) == Kind::Other)
            .unwrap_or(*target)
    }

    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        x == y
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        let mut tree = self.tree.borrow_mut();
        if let NodeOrText::AppendNode(id) = new_node {
            tree.detach(id);
        }
        if tree.parent(*sibling).is_none() {
            return;
        }
        match new_node {
            NodeOrText::AppendNode(id) => tree.insert_before(*sibling, id),
            NodeOrText::AppendText(text) => {
                let prev = tree.prev_sibling(*sibling);
                if !tree.extend_text(prev, &text)
                    && let Some(id) = tree.new_text(&text)
                {
                    tree.insert_before(*sibling, id);
                }
            }
        }
    }

    fn add_attrs_if_missing(&self, target: &NodeId, mut attrs: Vec<Attribute>) {
        keep_read_attrs(&mut attrs);
        let mut tree = self.tree.borrow_mut();
        if tree.kind(*target) != Kind::Element || attrs.is_empty() {
            return;
        }
        let index = match tree.nodes[*target as usize].b {
            NONE => {
                tree.attrs.push(Vec::new());
                let Ok(i) = u32::try_from(tree.attrs.len() - 1) else {
                    return;
                };
                tree.nodes[*target as usize].b = i;
                i
            }
            i => i,
        };
        let list = &mut tree.attrs[index as usize];
        for attr in attrs {
            if !list.iter().any(|a| a.name == attr.name) {
                list.push(attr);
            }
        }
    }

    fn remove_from_parent(&self, target: &NodeId) {
        self.tree.borrow_mut().detach(*target);
    }

    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        let mut tree = self.tree.borrow_mut();
        while let Some(child) = tree.first_child(*node) {
            tree.detach(child);
            tree.append_child(*new_parent, child);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::depth;
    use super::super::tree::Node;
    use crate::page::test_page as page;

    /// The texts of the tree in document order.
    fn texts(html: &str) -> Vec<String> {
        let tree = depth::parse(html).tree;
        tree.descendants(tree.root())
            .filter_map(|n| tree.text(n).map(str::to_string))
            .collect()
    }

    /// The children of `parent`, first to last, checked against the walk backwards too.
    fn children(tree: &super::Tree, parent: u32) -> Vec<u32> {
        let forward: Vec<u32> =
            std::iter::successors(tree.first_child(parent), |&c| tree.next_sibling(c)).collect();
        let backward: Vec<u32> =
            std::iter::successors(tree.last_child(parent), |&c| tree.prev_sibling(c)).collect();
        assert_eq!(
            forward,
            backward.into_iter().rev().collect::<Vec<_>>(),
            "links broken"
        );
        for &c in &forward {
            assert_eq!(tree.parent(c), Some(parent));
        }
        forward
    }

    #[test]
    fn tree_edits_keep_every_link_consistent() {
        use super::{Kind, Node, Tree};
        let mut t = Tree::new("", 0);
        let p = t.push(Kind::Other, Node::new(u32::MAX, u32::MAX));
        t.append_child(0, p);
        let n: Vec<u32> = (0..5)
            .map(|_| t.push(Kind::Other, Node::new(u32::MAX, u32::MAX)))
            .collect();
        for &c in &n[..3] {
            t.append_child(p, c);
        }
        assert_eq!(children(&t, p), [n[0], n[1], n[2]]);
        // The last child leaves, then a new last child comes.
        t.detach(n[2]);
        t.append_child(p, n[3]);
        assert_eq!(children(&t, p), [n[0], n[1], n[3]]);
        // The first child leaves; a node goes before the new first, one before the last.
        t.detach(n[0]);
        assert_eq!(children(&t, p), [n[1], n[3]]);
        t.insert_before(n[1], n[4]);
        t.insert_before(n[3], n[0]);
        assert_eq!(children(&t, p), [n[4], n[1], n[0], n[3]]);
        // A middle child leaves; the only child of another parent leaves it empty.
        t.detach(n[1]);
        assert_eq!(children(&t, p), [n[4], n[0], n[3]]);
        t.append_child(n[4], n[1]);
        t.detach(n[1]);
        assert!(children(&t, n[4]).is_empty());
        assert_eq!(t.parent(n[1]), None);
        t.detach(n[1]); // detached twice: nothing happens
        assert_eq!(children(&t, p), [n[4], n[0], n[3]]);
    }

    #[test]
    fn a_node_stays_small() {
        // Six links and payload words: pages dense in nodes cost about 25 bytes per node.
        assert!(std::mem::size_of::<Node>() <= 24);
    }

    #[test]
    fn content_fostered_out_of_a_table_comes_before_it() {
        let p = page(
            "<table><tr><td>In the cell</td></tr>We earn a commission. \
             <a href=\"https://www.amazon.com/dp/B01?tag=x-20\">Deal</a></table>",
        );
        let texts: Vec<&str> = p.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(texts, ["We earn a commission. Deal", "In the cell"]);
        assert_eq!(p.links[0].text, "Deal");
    }

    #[test]
    fn misnested_formatting_is_rebuilt_as_browsers_do() {
        assert_eq!(
            texts("<p><b>bold<p>para</b>after</p>"),
            ["bold", "para", "after"]
        );
        // The adoption agency splits the link: its part inside the `<div>` is a second link.
        let p = page("<p><a href=\"/go/x\">Buy <div>now</a> later</div>");
        let links: Vec<(&str, &str)> = p
            .links
            .iter()
            .map(|l| (l.href.as_str(), l.text.as_str()))
            .collect();
        assert_eq!(links, [("/go/x", "Buy"), ("/go/x", "now")]);
        let texts: Vec<&str> = p.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(texts, ["Buy", "now later"]);
    }

    #[test]
    fn text_split_across_input_chunks_stays_one_run() {
        // A word with a multi-byte character straddles the tokenizer's 64 KiB chunks.
        let filler = format!("<p>{}</p>\n", "x".repeat(64 * 1024 - 10));
        let html = format!("{filler}<p>Wir verdienen <a href=\"/go/y\">Größenvorteil</a></p>");
        let p = page(&html);
        assert_eq!(p.links[0].text, "Größenvorteil");
        assert_eq!(p.links[0].line, 2);
        assert_eq!(p.blocks[1].text, "Wir verdienen Größenvorteil");
        for split in [64 * 1024 - 3, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1] {
            let html = format!("<p>{}Größe</p>", "y".repeat(split - 3));
            let p = page(&html);
            assert!(p.blocks[0].text.ends_with("yGröße"), "split at {split}");
            assert_eq!(p.blocks[0].segments.len(), 1, "split at {split}");
        }
    }

    #[test]
    fn attributes_never_read_are_not_kept() {
        let tree = depth::parse(
            "<a id=\"x\" data-track=\"1\" href=\"/go/z\" srcset=\"a.png 2x\" rel=\"sponsored\">z</a>",
        )
        .tree;
        let a = tree
            .descendants(tree.root())
            .find_map(|n| tree.element(n).filter(|e| e.name() == "a"))
            .unwrap();
        assert_eq!(a.attr(&html5ever::local_name!("href")), Some("/go/z"));
        assert_eq!(a.attr(&html5ever::local_name!("rel")), Some("sponsored"));
        assert_eq!(a.kept_attrs(), 2);
    }
}

/// The compact tree against scraper's DOM, the reference it replaced: the same elements, text and
/// order on every input that nests less deeply than the cap.
#[cfg(test)]
mod same_as_scraper {
    use super::super::depth;
    use super::super::tree::{Edge, Kind};

    /// What a reader of either tree sees: elements opening and closing, and runs of text (adjacent
    /// text nodes joined, comments and the like left out).
    #[derive(Debug, PartialEq)]
    enum Event {
        Open(String),
        Text(String),
        Close,
    }

    fn push_text(out: &mut Vec<Event>, text: &str) {
        if let Some(Event::Text(t)) = out.last_mut() {
            t.push_str(text);
        } else if !text.is_empty() {
            out.push(Event::Text(text.to_string()));
        }
    }

    fn ours(html: &str) -> Option<Vec<Event>> {
        let parsed = depth::parse(html);
        if parsed.flattened > 0 {
            return None;
        }
        let tree = parsed.tree;
        let mut out = Vec::new();
        for edge in tree.traverse(tree.root()) {
            match edge {
                Edge::Open(n) => match tree.kind(n) {
                    Kind::Element => out.push(Event::Open(tree.element(n)?.name().to_string())),
                    Kind::Text => push_text(&mut out, tree.text(n)?),
                    _ => {}
                },
                Edge::Close(n) if tree.kind(n) == Kind::Element => out.push(Event::Close),
                Edge::Close(_) => {}
            }
        }
        Some(out)
    }

    fn reference(html: &str) -> Vec<Event> {
        use ego_tree::iter::Edge;
        use scraper::Node;
        let doc = scraper::Html::parse_document(html);
        let mut out = Vec::new();
        for edge in doc.tree.root().traverse() {
            match edge {
                Edge::Open(n) => match n.value() {
                    Node::Element(e) => out.push(Event::Open(e.name().to_string())),
                    Node::Text(t) => push_text(&mut out, t),
                    _ => {}
                },
                Edge::Close(n) if n.value().is_element() => out.push(Event::Close),
                Edge::Close(_) => {}
            }
        }
        out
    }

    fn assert_same(html: &str, what: &str) {
        if let Some(ours) = ours(html) {
            assert_eq!(ours, reference(html), "{what}");
        }
    }

    #[test]
    fn on_the_fuzz_corpus() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/page_audit");
        let mut files = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert_same(
                &String::from_utf8_lossy(&bytes),
                &path.display().to_string(),
            );
            files += 1;
        }
        assert!(files > 100, "the corpus is missing: {files} files");
    }

    #[test]
    fn on_markup_that_moves_nodes_around() {
        for html in [
            // Foster parenting, with text merging before the table.
            "<table>a<tr>b<td>c</td>d</tr>e</table>f",
            "<table><tr><td>x</td></tr>one <b>two</b> three<a href=/go/a>deal</a></table>",
            // The adoption agency: misnested formatting, links split by blocks.
            "<p><b>bold<p>para</b>after</p>",
            "<a href=x>one<div>two</a>three</div>",
            "<b><i><u>x</b>y</i>z</u><p>w",
            "<b id=1><b id=2><b id=3><b id=4><p>x<p>y</b>z",
            // Reparenting, templates, a second <body> and <html> adding attributes.
            "<template><p>t</p></template><body class=a><body hidden lang=de><p>x</p>",
            "<select><option>a<option>b</select><table><caption>c<td>d</table>",
            "<frameset><frame></frameset>text after",
            "<svg><foreignObject><p>in svg</p></foreignObject></svg><math><mi>x</mi></math>",
            "<ul><li>a<li>b<ul><li>c</ul></ul><dl><dt>t<dd>d</dl>",
            "<!doctype html><!-- c --><html><head><title>T</title></head><body>x<!-- y -->z</body>",
        ] {
            assert_same(html, html);
        }
    }
}
