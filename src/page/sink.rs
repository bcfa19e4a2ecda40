//! A tree sink that builds scraper's DOM and remembers the source line of chosen elements.
//!
//! scraper's own sink ignores the line numbers html5ever reports, and the report must give the
//! 1-based source line of every link; this wrapper delegates every call and records the line current
//! when a recorded element is created.

use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use ego_tree::NodeId;
use html5ever::tendril::StrTendril;
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, LocalName, QualName, local_name, ns};
use scraper::{Html, HtmlTreeSink};

/// Builds an [`Html`] and a map from element to source line for links, areas and scripts.
pub(crate) struct LineSink {
    inner: HtmlTreeSink,
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
    pub(crate) fn new() -> Self {
        LineSink {
            inner: HtmlTreeSink::new(Html::new_document()),
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
        let html = self.inner.0.borrow();
        let Some(node) = html.tree.get(id) else {
            return 0;
        };
        let parent = node.parent().map(|p| p.id());
        let known = self.known_depths.get();
        let depth = match (parent, known) {
            (Some(p), Some(k)) if p == k.id => k.depth.saturating_add(1),
            (Some(p), Some(k)) if Some(p) == k.parent => k.depth,
            _ => u32::try_from(node.ancestors().take(cap as usize).count()).unwrap_or(cap),
        };
        let depth = depth.min(cap);
        self.known_depths
            .set(Some(KnownDepth { id, depth, parent }));
        depth
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

impl TreeSink for LineSink {
    type Handle = NodeId;
    type Output = (Html, FxHashMap<NodeId, u32>);
    type ElemName<'a> = <HtmlTreeSink as TreeSink>::ElemName<'a>;

    fn finish(self) -> Self::Output {
        (self.inner.finish(), self.lines.into_inner())
    }

    fn set_current_line(&self, line_number: u64) {
        self.line.set(line_number);
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        let record = matches!(
            name.local,
            local_name!("a") | local_name!("area") | local_name!("script")
        );
        let html = name.ns == ns!(html);
        let local = name.local.clone();
        let id = self.inner.create_element(name, attrs, flags);
        *self.last.borrow_mut() = Some(Created {
            id,
            void: html && is_void(&local),
            name: local,
            html,
        });
        if record {
            let line = u32::try_from(self.line.get()).unwrap_or(u32::MAX);
            self.lines.borrow_mut().insert(id, line);
        }
        id
    }

    fn parse_error(&self, msg: Cow<'static, str>) {
        self.inner.parse_error(msg)
    }
    fn get_document(&self) -> NodeId {
        self.inner.get_document()
    }
    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Self::ElemName<'a> {
        self.inner.elem_name(target)
    }
    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.inner.create_comment(text)
    }
    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.inner.create_pi(target, data)
    }
    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        self.inner.append(parent, child)
    }
    fn append_based_on_parent_node(
        &self,
        element: &NodeId,
        prev_element: &NodeId,
        child: NodeOrText<NodeId>,
    ) {
        self.inner
            .append_based_on_parent_node(element, prev_element, child)
    }
    fn append_doctype_to_document(
        &self,
        name: StrTendril,
        public_id: StrTendril,
        system_id: StrTendril,
    ) {
        self.inner
            .append_doctype_to_document(name, public_id, system_id)
    }
    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        self.inner.get_template_contents(target)
    }
    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        self.inner.same_node(x, y)
    }
    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.inner.set_quirks_mode(mode)
    }
    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        self.inner.append_before_sibling(sibling, new_node)
    }
    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        self.inner.add_attrs_if_missing(target, attrs)
    }
    fn remove_from_parent(&self, target: &NodeId) {
        self.inner.remove_from_parent(target)
    }
    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        self.inner.reparent_children(node, new_parent)
    }
}
