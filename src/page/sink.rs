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
    /// A sink for a document of `len` bytes.
    pub(crate) fn new(len: usize) -> Self {
        LineSink {
            tree: RefCell::new(Tree::new(len)),
            name_ids: RefCell::new(FxHashMap::default()),
            line: Cell::new(1),
            lines: RefCell::new(FxHashMap::default()),
            last: RefCell::new(None),
            known_depths: Cell::new(None),
        }
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
        if matches!(
            local,
            local_name!("a") | local_name!("area") | local_name!("script")
        ) {
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
