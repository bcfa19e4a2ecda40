//! A compact DOM: what the page stage keeps of a parsed document.
//!
//! A general-purpose DOM costs a page many times its size: scraper's tree spends about 128 bytes
//! on every node and grows one vector by doubling, so markup dense in nodes (`<table><td>x`
//! repeated, five nodes per twelve bytes) took 128× its size. The walk needs much less: document
//! order, element names and attributes, and text. Here a node is six `u32`s and a kind byte;
//! element names are interned once per page; the text of every text node sits in one shared
//! buffer; comments, doctypes and processing instructions keep no content.

use std::cell::Ref;

use html5ever::{Attribute, LocalName, QualName, local_name, ns};

/// A node's index in its [`Tree`].
pub(crate) type NodeId = u32;

/// "No node" in a link field.
pub(super) const NONE: u32 = u32::MAX;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// The document (always node 0).
    Document,
    /// An element: `a` is its name's index in [`Tree::names`], `b` its attributes' index in
    /// [`Tree::attrs`] or [`NONE`].
    Element,
    /// Text: `a` and `b` are its start and length in [`Tree::text`].
    Text,
    /// A comment, processing instruction or template fragment: structure only.
    Other,
}

/// The links of one node and two words of payload whose meaning depends on its [`Kind`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Node {
    pub(super) parent: u32,
    pub(super) first_child: u32,
    pub(super) next: u32,
    /// The previous sibling; for a first child, the *last* child of the parent, so that appending
    /// is O(1) without a fifth link.
    pub(super) prev: u32,
    pub(super) a: u32,
    pub(super) b: u32,
}

impl Node {
    pub(super) const fn new(a: u32, b: u32) -> Self {
        Node {
            parent: NONE,
            first_child: NONE,
            next: NONE,
            prev: NONE,
            a,
            b,
        }
    }
}

/// A parsed document.
#[derive(Debug)]
pub(crate) struct Tree {
    pub(super) nodes: Vec<Node>,
    pub(super) kinds: Vec<Kind>,
    /// Element names, each once.
    pub(super) names: Vec<QualName>,
    /// Attribute lists of the elements that have attributes.
    pub(super) attrs: Vec<Vec<Attribute>>,
    /// The text of every text node, end to end.
    pub(super) text: String,
}

/// A step of a document-order walk: entering a node, or leaving it after its descendants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edge {
    /// Entering the node.
    Open(NodeId),
    /// Leaving it.
    Close(NodeId),
}

/// An element's name and attributes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Elem<'a> {
    /// Its qualified name.
    pub(crate) name: &'a QualName,
    attrs: &'a [Attribute],
}

impl<'a> Elem<'a> {
    /// The local name (`a`, `div`, …).
    pub(crate) fn local(&self) -> &'a LocalName {
        &self.name.local
    }

    /// The local name as text.
    pub(crate) fn name(&self) -> &'a str {
        &self.name.local
    }

    /// The value of the attribute `name` (outside any namespace). Only the attributes of
    /// [`is_kept_attr`] are kept.
    pub(crate) fn attr(&self, name: &LocalName) -> Option<&'a str> {
        debug_assert!(
            is_kept_attr(name),
            "the tree does not keep `{name}` attributes"
        );
        self.attrs
            .iter()
            .find(|a| a.name.local == *name && a.name.ns == ns!())
            .map(|a| &*a.value)
    }

    /// How many attributes the element kept.
    #[cfg(test)]
    pub(crate) fn kept_attrs(&self) -> usize {
        self.attrs.len()
    }
}

/// The attributes the page stage reads; the tree drops every other one (`id`, `srcset`, `data-*`,
/// …), which on a dense page is most of the attribute bytes. A reader of a new attribute adds it
/// here (debug builds assert it).
pub(super) fn is_kept_attr(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("alt")
            | local_name!("aria-label")
            | local_name!("class")
            | local_name!("content")
            | local_name!("hidden")
            | local_name!("href")
            | local_name!("lang")
            | local_name!("name")
            | local_name!("open")
            | local_name!("property")
            | local_name!("rel")
            | local_name!("src")
            | local_name!("style")
            | local_name!("title")
            | local_name!("type")
    )
}

impl Tree {
    /// A tree holding only the document node, with room for the nodes that `text` builds (at
    /// most `budget`).
    ///
    /// Growing by doubling would hold the old and the new buffer at once, half again the tree's
    /// size on node-dense markup; so the buffers are sized up front: a node per tag start and one
    /// per text run between tags, plus a half for elements the parser implies (`<tbody>`, `<tr>`
    /// …), and the text buffer as long as the page. On ordinary pages that over-estimates, but
    /// memory reserved and never written costs address space, not resident memory.
    pub(super) fn new(text: &str, budget: usize) -> Self {
        let tags = text.bytes().filter(|&b| b == b'<').count();
        let nodes = tags
            .saturating_mul(5)
            .div_ceil(2)
            .saturating_add(16)
            .min(budget.saturating_add(16));
        let mut tree = Tree {
            nodes: Vec::with_capacity(nodes),
            kinds: Vec::with_capacity(nodes),
            names: Vec::new(),
            attrs: Vec::new(),
            text: String::with_capacity(text.len()),
        };
        tree.push(Kind::Document, Node::new(NONE, NONE));
        tree
    }

    /// How many elements have one of these local names: the size of a list to build from them
    /// up front, so it never holds its old and new buffer at once while growing.
    pub(super) fn count_elements(&self, local: &[LocalName]) -> usize {
        let wanted: Vec<u32> = (0..self.names.len())
            .filter(|&i| local.contains(&self.names[i].local))
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        self.kinds
            .iter()
            .zip(&self.nodes)
            .filter(|&(k, n)| *k == Kind::Element && wanted.contains(&n.a))
            .count()
    }

    /// Adds a detached node.
    pub(super) fn push(&mut self, kind: Kind, node: Node) -> NodeId {
        let id = u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes per page");
        self.nodes.push(node);
        self.kinds.push(kind);
        id
    }

    /// The document node.
    pub(crate) const fn root(&self) -> NodeId {
        0
    }

    /// What `id` is.
    pub(crate) fn kind(&self, id: NodeId) -> Kind {
        self.kinds[id as usize]
    }

    /// The element `id`, if it is one.
    pub(crate) fn element(&self, id: NodeId) -> Option<Elem<'_>> {
        if self.kind(id) != Kind::Element {
            return None;
        }
        let node = &self.nodes[id as usize];
        let attrs = match node.b {
            NONE => &[][..],
            i => &self.attrs[i as usize][..],
        };
        Some(Elem {
            name: &self.names[node.a as usize],
            attrs,
        })
    }

    /// The text of the text node `id`.
    pub(crate) fn text(&self, id: NodeId) -> Option<&str> {
        if self.kind(id) != Kind::Text {
            return None;
        }
        let node = &self.nodes[id as usize];
        let start = node.a as usize;
        Some(&self.text[start..start + node.b as usize])
    }

    /// The parent of `id`.
    pub(crate) fn parent(&self, id: NodeId) -> Option<NodeId> {
        some(self.nodes[id as usize].parent)
    }

    /// The first child of `id`.
    pub(crate) fn first_child(&self, id: NodeId) -> Option<NodeId> {
        some(self.nodes[id as usize].first_child)
    }

    /// The last child of `id`.
    pub(crate) fn last_child(&self, id: NodeId) -> Option<NodeId> {
        self.first_child(id).map(|f| self.nodes[f as usize].prev)
    }

    /// The next sibling of `id`.
    pub(crate) fn next_sibling(&self, id: NodeId) -> Option<NodeId> {
        some(self.nodes[id as usize].next)
    }

    /// The previous sibling of `id`.
    pub(crate) fn prev_sibling(&self, id: NodeId) -> Option<NodeId> {
        let parent = self.parent(id)?;
        (self.nodes[parent as usize].first_child != id).then(|| self.nodes[id as usize].prev)
    }

    /// The name of the element `id`, for the tree builder.
    pub(super) fn name_ref(this: Ref<'_, Tree>, id: NodeId) -> Ref<'_, QualName> {
        Ref::map(this, |t| &t.names[t.nodes[id as usize].a as usize])
    }

    /// `id` and everything inside it, in document order, as open and close steps.
    pub(crate) fn traverse(&self, id: NodeId) -> Traverse<'_> {
        Traverse {
            tree: self,
            top: id,
            next: Some(Edge::Open(id)),
        }
    }

    /// `id` and every node inside it, in document order.
    pub(crate) fn descendants(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.traverse(id).filter_map(|e| match e {
            Edge::Open(n) => Some(n),
            Edge::Close(_) => None,
        })
    }

    /// The text inside `id` (inline scripts, titles, style sheets).
    pub(crate) fn element_text(&self, id: NodeId) -> String {
        self.descendants(id).filter_map(|n| self.text(n)).collect()
    }
}

/// `Some(id)` unless `id` is [`NONE`].
fn some(id: u32) -> Option<NodeId> {
    (id != NONE).then_some(id)
}

/// The iterator of [`Tree::traverse`]: no recursion and no stack, so depth costs nothing.
pub(crate) struct Traverse<'a> {
    tree: &'a Tree,
    top: NodeId,
    next: Option<Edge>,
}

impl Iterator for Traverse<'_> {
    type Item = Edge;

    fn next(&mut self) -> Option<Edge> {
        let edge = self.next?;
        self.next = match edge {
            Edge::Open(id) => Some(match self.tree.first_child(id) {
                Some(child) => Edge::Open(child),
                None => Edge::Close(id),
            }),
            Edge::Close(id) if id == self.top => None,
            Edge::Close(id) => match self.tree.next_sibling(id) {
                Some(next) => Some(Edge::Open(next)),
                None => self.tree.parent(id).map(Edge::Close),
            },
        };
        Some(edge)
    }
}
