//! Disclosure wording: finds statements such as "we may earn a commission" in a block of page text,
//! and labels such as "(paid link)" at links.
//!
//! Text is split into word tokens (letters and digits; everything else separates words, so
//! `Affiliate-Links` is two words; letters of scripts written without spaces — Han, kana, Hangul,
//! Thai — are one token each, so terms match inside unbroken text), sentences (`.`, `!`, `?`, `;`,
//! `:` before white space, `。`, line breaks …) and clauses (commas and dashes inside a sentence).
//! Each language's word classes (`terms`) are matched case-insensitively on the original text, and
//! its statement forms combine them: in order with bounded gaps, or in any order within a span, with
//! classes that must also appear nearby (`requires`) or must not stand between the parts
//! (`blocked_by`). A negation in the clause cancels a statement; a question never discloses.
//!
//! Two classes come from the engine rather than from the rules: `site_name`, the site's own names
//! (learned from the page and the config, compared without spaces and case), and `name`, any proper
//! name (a capitalized word that no class of any language knows) or site name.
//!
//! The engine is split by job: `compile` builds the matcher from the rules data, `tokens` splits
//! text into words and sentences, `find` matches terms and statement forms, `conditions` checks
//! what a form needs beyond its parts (negation, questions, a tie to this page), `names` finds
//! proper and site names, and `labels` reads short labels such as "(paid link)".

mod compile;
mod conditions;
mod find;
mod labels;
mod names;
/// A term matched at tokens `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hit {
    set: usize,
    start: usize,
    end: usize,
}

#[cfg(test)]
mod testing;
mod tokens;

use rustc_hash::{FxHashMap, FxHashSet};
use std::ops::Range;

use super::schema::Strength;

pub use names::SiteNames;

/// The id of the next matcher made, so that each matcher has its own results in the cache.
static NEXT_MATCHER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Stems (`commission*`) are indexed by this many leading characters; shorter stems are rejected.
const STEM_KEY: usize = 3;
/// The engine's own classes, shared by every language.
const NAME_SET: usize = 0;
const SITE_NAME_SET: usize = 1;
/// Longest proper name, in words.
const NAME_WORDS: usize = 5;

#[derive(Debug, Clone)]
struct Word {
    text: String,
    stem: bool,
}

impl Word {
    fn matches(&self, token: &str) -> bool {
        if self.stem {
            token.starts_with(self.text.as_str())
        } else {
            token == self.text
        }
    }
}

#[derive(Debug)]
struct Term {
    words: Vec<Word>,
    /// Every class that lists this term ("this site" is a subject, an object and a tie).
    sets: Vec<usize>,
}

/// One part of a form: any of these classes.
type Part = Vec<usize>;

#[derive(Debug)]
enum Shape {
    /// Parts in order; `gaps[k]` is the most words between part k and part k + 1.
    Ordered { parts: Vec<Part>, gaps: Vec<usize> },
    /// Parts in any order, all within `within` words.
    AnyOrder { parts: Vec<Part>, within: usize },
}

impl Shape {
    fn parts(&self) -> &[Part] {
        match self {
            Shape::Ordered { parts, .. } | Shape::AnyOrder { parts, .. } => parts,
        }
    }
}

#[derive(Debug)]
struct Statement {
    lang: usize,
    id: String,
    strength: Strength,
    shape: Shape,
    requires: Vec<Part>,
    blocked: Vec<usize>,
    unless: Vec<usize>,
    /// Whether a part or requirement is `name` or `site_name`.
    uses_names: bool,
}

/// Per language: the sets that are not statement parts.
#[derive(Debug)]
struct Lang {
    id: String,
    negation: usize,
    exception: usize,
    clause_break: usize,
    cost: Option<usize>,
    /// "how", "why": right before a statement they make it a question or a pointer.
    wh: Option<usize>,
    /// "yes": a question answered by it ("Do we earn from these links? Yes …") is a statement.
    yes: Option<usize>,
    /// "want to", "would you like to": a question opening with one is an invitation.
    invite: Option<usize>,
    /// "right?", "tá?", "né?": a statement ending in a tag question after a comma is no question.
    tag: Option<usize>,
    /// How many words after a statement a negation in its clause still cancels it.
    negation_after: usize,
    /// "nothing", "none of the links": a negating subject reaches the whole clause before it.
    neg_subject: Option<usize>,
}

/// One statement found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementMatch {
    /// Byte range of the matched words in the text.
    pub span: Range<usize>,
    /// Byte range of the sentence holding them.
    pub sentence: Range<usize>,
    /// How clearly it discloses.
    pub strength: Strength,
    /// The ids of the required statements (`[[required_statement]]`) whose wording the sentence
    /// holds, in rules order: the sentence is (a form of) those statements.
    pub statements: Vec<String>,
    /// `language/statement` id of the form that matched.
    pub rule: String,
}

/// Why a sentence that has every part of a statement form still does not count as that statement
/// (what `affcheck explain` shows as a near miss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Miss {
    /// A word between the parts breaks the statement ("we earn *no* commission", "links *to* …").
    Blocked,
    /// The sentence holds a word that undoes the form ("unless", "if we ever …").
    Unless,
    /// A question word right before it: it asks, it does not state ("*How* we earn money").
    QuestionWord,
    /// A requirement of the form is missing nearby, such as the tie to this page or its links
    /// when someone else (a partner, a network) is the one who earns.
    Requirement,
    /// A negation applies to it ("we do *not* receive commissions").
    Negated,
    /// A question that states nothing ("Do we earn a commission?").
    Question,
}

impl Miss {
    /// How much the reason tells a reader, when several choices of words fail differently: a
    /// negation says more than a word in between.
    pub(super) fn telling(self) -> u8 {
        match self {
            Miss::Blocked => 0,
            Miss::Unless => 1,
            Miss::QuestionWord => 2,
            Miss::Question => 3,
            Miss::Requirement => 4,
            Miss::Negated => 5,
        }
    }

    /// A short explanation for people.
    pub fn describe(self) -> &'static str {
        match self {
            Miss::Blocked => "a word between its parts breaks the statement",
            Miss::Unless => "the sentence makes it conditional or undoes it",
            Miss::QuestionWord => {
                "it is introduced by a question word, so it asks or titles rather than states"
            }
            Miss::Requirement => {
                "something the wording needs is missing nearby (for a partner or network as the earner: a tie to this page or its links)"
            }
            Miss::Negated => "it is negated",
            Miss::Question => "it is a question, not a statement",
        }
    }
}

/// A sentence with every part of a disclosure form that does not count as a disclosure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMiss {
    /// Byte range of the sentence in the text.
    pub sentence: Range<usize>,
    /// `language/statement` id of the form it came closest to.
    pub rule: String,
    /// Why it does not count.
    pub miss: Miss,
}

/// Compiled disclosure wording for all languages.
#[derive(Debug)]
pub struct PhraseMatcher {
    /// Tells matchers apart in the per-thread cache of results.
    id: u64,
    langs: Vec<Lang>,
    terms: Vec<Term>,
    /// Terms by their words, so a phrase listed in several classes is matched once.
    term_ids: FxHashMap<Vec<(String, bool)>, usize>,
    exact: FxHashMap<String, Vec<usize>>,
    by_stem: FxHashMap<String, Vec<usize>>,
    /// Clitic prefixes of every language, longest first.
    prefixes: Vec<String>,
    statements: Vec<Statement>,
    /// Per required statement: its id and the class of its wording terms.
    required: Vec<(String, usize)>,
    /// By class: the statements whose anchor (first part that is not a name class) includes it,
    /// so a text is only checked against forms whose anchor it holds.
    by_anchor: Vec<Vec<u32>>,
    /// Whether some statement uses `name` or `site_name`.
    uses_names: bool,
    set_count: usize,
    /// Capitalized words that are never names.
    not_names: FxHashSet<String>,
    /// Question words of every language (`wh` classes), single words.
    wh_words: FxHashSet<String>,
    labels: FxHashSet<String>,
    inline_labels: FxHashSet<String>,
    link_labels: FxHashSet<String>,
    markers: Vec<char>,
    /// Texts longer than this many characters cannot be a label (a cheap gate before tokenizing).
    label_limit: usize,
}

impl Default for PhraseMatcher {
    fn default() -> Self {
        PhraseMatcher {
            id: NEXT_MATCHER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            langs: Vec::new(),
            terms: Vec::new(),
            term_ids: FxHashMap::default(),
            exact: FxHashMap::default(),
            by_stem: FxHashMap::default(),
            prefixes: Vec::new(),
            statements: Vec::new(),
            required: Vec::new(),
            by_anchor: Vec::new(),
            uses_names: false,
            set_count: 2, // NAME_SET and SITE_NAME_SET
            not_names: FxHashSet::default(),
            wh_words: FxHashSet::default(),
            labels: FxHashSet::default(),
            inline_labels: FxHashSet::default(),
            link_labels: FxHashSet::default(),
            markers: Vec::new(),
            label_limit: 0,
        }
    }
}
