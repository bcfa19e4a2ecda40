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

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};
use std::ops::Range;

use super::schema::{LanguageRule, RequiredStatementRule, Strength};

/// Blocks up to this many bytes are looked up in, and kept in, the per-thread result cache.
const CACHE_TEXT_MAX: usize = 400;
/// Results kept per thread before the cache starts afresh.
const CACHE_ENTRIES: usize = 4096;

static NEXT_MATCHER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

thread_local! {
    /// Recent results by (matcher, text, site names) hash, with the text to rule out collisions.
    static RESULTS: std::cell::RefCell<FxHashMap<u64, (String, Vec<StatementMatch>)>> =
        std::cell::RefCell::new(FxHashMap::default());
}

/// Stems (`commission*`) are indexed by this many leading characters; shorter stems are rejected.
const STEM_KEY: usize = 3;
/// How many words before a statement a negation still applies to (within its clause).
const NEGATION_REACH: usize = 3;
/// How many words after a negation a `cost` term makes it harmless ("no extra cost").
const COST_REACH: usize = 3;
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

/// The site's own names, as the wording matcher compares them: lower-cased letters and digits only
/// (`Trusted Reviews`, `trustedreviews.com`'s `trustedreviews` and `TRUSTED-REVIEWS` are one name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteNames {
    keys: Vec<String>,
}

impl SiteNames {
    /// No names.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a name; names with fewer than 3 letters or digits are ignored (too easily met by chance).
    pub fn add(&mut self, name: &str) {
        let key = name_key(name);
        if key.chars().count() >= 3 && !self.keys.contains(&key) {
            self.keys.push(key);
        }
    }

    /// Adds every name of `other`.
    pub fn extend(&mut self, other: &SiteNames) {
        for k in &other.keys {
            if !self.keys.contains(k) {
                self.keys.push(k.clone());
            }
        }
    }

    /// Whether no name is known.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The names as compared (lower-cased letters and digits).
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
}

/// A name's comparison key: lower-cased letters and digits.
fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A word of the text being read.
#[derive(Debug)]
struct Token {
    start: usize,
    end: usize,
    sentence: usize,
    clause: usize,
    /// Inside parentheses or brackets.
    paren: bool,
    /// The word has an upper-case letter (a possible name).
    upper: bool,
    /// The character right after the word when it is `.` or `-` (`site.com`, `trail-notes`).
    joint_after: u8,
    /// The lower-cased word, as a range of [`Tokens::lower`].
    lower: Range<usize>,
}

/// The words of a text; lower-cased forms share one buffer, so tokenizing allocates twice, not per
/// word.
#[derive(Debug, Default)]
struct Tokens {
    list: Vec<Token>,
    lower: String,
    /// Per sentence: whether it ends with a question mark.
    questions: Vec<bool>,
    /// Per sentence: its tokens, `first..last + 1` (empty for a sentence without words).
    spans: Vec<Range<usize>>,
}

impl Tokens {
    fn len(&self) -> usize {
        self.list.len()
    }

    fn lower(&self, i: usize) -> &str {
        &self.lower[self.list[i].lower.clone()]
    }

    /// The tokens of sentence `s`, when it has any.
    fn sentence(&self, s: usize) -> Option<Range<usize>> {
        self.spans.get(s).filter(|r| r.start < r.end).cloned()
    }
}

impl std::ops::Index<usize> for Tokens {
    type Output = Token;
    fn index(&self, i: usize) -> &Token {
        &self.list[i]
    }
}

/// A term matched at tokens `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hit {
    set: usize,
    start: usize,
    end: usize,
}

/// Which classes have a hit in a text (a bit per class).
struct Present(Vec<u64>);

impl Present {
    fn new(sets: usize) -> Self {
        Present(vec![0; sets.div_ceil(64)])
    }

    fn set(&mut self, set: usize) {
        self.0[set / 64] |= 1 << (set % 64);
    }

    fn has(&self, set: usize) -> bool {
        self.0[set / 64] >> (set % 64) & 1 == 1
    }

    /// Whether every part and requirement of `st` has a hit; with `names_assumed`, the engine's
    /// name classes count as present.
    fn ready(&self, st: &Statement, names_assumed: bool) -> bool {
        let part = |p: &Part| {
            p.iter()
                .any(|&s| self.has(s) || (names_assumed && (s == NAME_SET || s == SITE_NAME_SET)))
        };
        st.shape.parts().iter().all(part) && st.requires.iter().all(part)
    }
}

/// The hits of one text, sorted by set and start, with lookups by set.
struct Hits {
    list: Vec<Hit>,
}

impl Hits {
    fn of(&self, set: usize) -> &[Hit] {
        let from = self.list.partition_point(|h| h.set < set);
        let to = self.list.partition_point(|h| h.set <= set);
        &self.list[from..to]
    }

    /// The hits of `set` that start at a token in `range`: checks look only where they can
    /// succeed, so a long block costs linear time, not a scan of all its hits per candidate.
    fn starting(&self, set: usize, range: Range<usize>) -> &[Hit] {
        let all = self.of(set);
        let from = all.partition_point(|h| h.start < range.start);
        let to = all.partition_point(|h| h.start < range.end);
        &all[from..to.max(from)]
    }
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

impl PhraseMatcher {
    /// Compiles the `[[language]]` entries and the wording of the `[[required_statement]]`
    /// entries; an error names the section (`language`, `required_statement`), the entry's id and
    /// the problem.
    pub fn new(
        languages: &[LanguageRule],
        required: &[RequiredStatementRule],
    ) -> Result<Self, (&'static str, String, String)> {
        let mut m = PhraseMatcher::default();
        for (lang, rule) in languages.iter().enumerate() {
            let err = |msg: String| ("language", rule.id.clone(), msg);
            let mut sets: HashMap<&str, usize> = HashMap::new();
            sets.insert("name", NAME_SET);
            sets.insert("site_name", SITE_NAME_SET);
            for (name, terms) in &rule.terms {
                if matches!(name.as_str(), "name" | "site_name") {
                    return Err(err(format!(
                        "term list `{name}`: the engine fills this class itself; choose another name"
                    )));
                }
                let set = m.new_set();
                sets.insert(name.as_str(), set);
                for term in terms {
                    m.add_term(term, set)
                        .map_err(|e| err(format!("term list `{name}`: {e}")))?;
                }
                if name == "wh" {
                    m.wh_words.extend(
                        terms
                            .iter()
                            .filter(|t| !t.contains(' ') && !t.ends_with('*'))
                            .map(|t| label_key(t)),
                    );
                }
                if name != "cost" {
                    // Known words are never taken for names; single words suffice for the check.
                    m.not_names.extend(
                        terms
                            .iter()
                            .filter(|t| !t.contains(' ') && !t.ends_with('*'))
                            .map(|t| label_key(t)),
                    );
                }
            }
            let list = |m: &mut PhraseMatcher, what: &str, terms: &[String]| {
                let set = m.new_set();
                for term in terms {
                    m.add_term(term, set)
                        .map_err(|e| err(format!("{what}: {e}")))?;
                }
                Ok::<usize, (&'static str, String, String)>(set)
            };
            let negation = list(&mut m, "negations", &rule.negations)?;
            let exception = list(&mut m, "negation_exceptions", &rule.negation_exceptions)?;
            let clause_break = list(&mut m, "clause_breaks", &rule.clause_breaks)?;
            m.langs.push(Lang {
                id: rule.id.clone(),
                negation,
                exception,
                clause_break,
                cost: sets.get("cost").copied(),
                wh: sets.get("wh").copied(),
                yes: sets.get("yes").copied(),
                invite: sets.get("invite").copied(),
                tag: sets.get("tag").copied(),
                negation_after: rule.negation_after,
                neg_subject: sets.get("neg_subject").copied(),
            });
            for st in &rule.statement {
                let bad = |e: String| err(format!("statement `{}`: {e}", st.id));
                let shape = match (&st.pattern, st.all.is_empty()) {
                    (Some(p), true) => {
                        let (parts, gaps) = parse_pattern(p, &sets).map_err(bad)?;
                        Shape::Ordered { parts, gaps }
                    }
                    (None, false) => {
                        let parts = parse_parts(&st.all, &sets).map_err(bad)?;
                        let within = st.within.ok_or_else(|| {
                            bad("`all` needs `within`, the longest span in words".into())
                        })?;
                        Shape::AnyOrder { parts, within }
                    }
                    (Some(_), false) => {
                        return Err(bad("give either `pattern` or `all`, not both".into()));
                    }
                    (None, true) => return Err(bad("needs a `pattern` or `all`".into())),
                };
                let requires = parse_parts(&st.requires, &sets).map_err(bad)?;
                let unless = parse_parts(&st.unless, &sets).map_err(bad)?.concat();
                let blocked = parse_parts(&st.blocked_by, &sets).map_err(bad)?.concat();
                let uses_names = shape
                    .parts()
                    .iter()
                    .chain(&requires)
                    .flatten()
                    .any(|&s| s == NAME_SET || s == SITE_NAME_SET);
                m.uses_names |= uses_names;
                m.statements.push(Statement {
                    lang,
                    id: st.id.clone(),
                    strength: st.strength,
                    shape,
                    requires,
                    blocked,
                    unless,
                    uses_names,
                });
            }
            for p in &rule.prefixes {
                let p = p.trim().to_lowercase();
                if p.is_empty() {
                    return Err(err("prefixes: an empty prefix".into()));
                }
                if !m.prefixes.contains(&p) {
                    m.prefixes.push(p);
                }
            }
            for marker in &rule.markers {
                let mut chars = marker.trim().chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_alphabetic() && !c.is_whitespace() => {
                        if !m.markers.contains(&c) {
                            m.markers.push(c);
                        }
                    }
                    _ => {
                        return Err(err(format!(
                            "markers: `{marker}` must be one symbol such as `*` or `†`"
                        )));
                    }
                }
            }
            m.not_names
                .extend(rule.negations.iter().map(|w| label_key(w)));
            m.labels.extend(rule.labels.iter().map(|l| label_key(l)));
            m.inline_labels
                .extend(rule.inline_labels.iter().map(|l| label_key(l)));
            m.link_labels
                .extend(rule.link_labels.iter().map(|l| label_key(l)));
        }
        // A required statement's wording is one class: a term of any language marks the sentence.
        for statement in required {
            let set = m.new_set();
            for (lang, terms) in &statement.wording {
                for term in terms {
                    m.add_term(term, set).map_err(|e| {
                        (
                            "required_statement",
                            statement.id.clone(),
                            format!("wording `{lang}`: {e}"),
                        )
                    })?;
                }
            }
            m.required.push((statement.id.clone(), set));
        }
        m.prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
        m.by_anchor = vec![Vec::new(); m.set_count];
        for (i, st) in m.statements.iter().enumerate() {
            let is_name = |p: &Part| p.iter().all(|&s| s == NAME_SET || s == SITE_NAME_SET);
            let parts = st.shape.parts();
            let anchor = parts.iter().find(|p| !is_name(p)).unwrap_or(&parts[0]);
            for &set in anchor {
                m.by_anchor[set].push(i as u32);
            }
        }
        m.labels.remove("");
        m.inline_labels.remove("");
        let longest = m
            .labels
            .iter()
            .chain(&m.inline_labels)
            .chain(&m.link_labels)
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        // Raw text may carry extra spaces and punctuation.
        m.label_limit = longest * 2 + 16;
        Ok(m)
    }

    fn new_set(&mut self) -> usize {
        self.set_count += 1;
        self.set_count - 1
    }

    fn add_term(&mut self, term: &str, set: usize) -> Result<(), String> {
        // Each space-separated piece may end with `*` ("partnersk* odkaz*").
        let mut words: Vec<Word> = Vec::new();
        for piece in term.split_whitespace() {
            let stem = piece.ends_with('*');
            let body = piece.trim_end_matches('*');
            if body.contains('*') {
                return Err(format!("`{term}`: `*` may only end a word"));
            }
            let tokens = tokenize(body);
            let n = tokens.len();
            for i in 0..n {
                words.push(Word {
                    text: tokens.lower(i).to_string(),
                    stem: stem && i + 1 == n,
                });
            }
            if stem && n == 0 {
                return Err(format!("`{term}`: `*` needs letters before it"));
            }
        }
        if words.is_empty() {
            return Err(format!("`{term}` has no words"));
        }
        let key: Vec<(String, bool)> = words.iter().map(|w| (w.text.clone(), w.stem)).collect();
        if let Some(&id) = self.term_ids.get(&key) {
            let sets = &mut self.terms[id].sets;
            if !sets.contains(&set) {
                sets.push(set);
            }
            return Ok(());
        }
        let first = &words[0];
        let id = self.terms.len();
        self.term_ids.insert(key, id);
        if first.stem {
            if first.text.chars().count() < STEM_KEY {
                return Err(format!(
                    "`{term}`: a stem needs at least {STEM_KEY} letters"
                ));
            }
            self.by_stem
                .entry(stem_key(&first.text).to_string())
                .or_default()
                .push(id);
        } else {
            self.exact.entry(first.text.clone()).or_default().push(id);
        }
        self.terms.push(Term {
            words,
            sets: vec![set],
        });
        Ok(())
    }

    /// Every disclosure statement in `text`, in text order, at most one per sentence (the
    /// strongest), with no site names known.
    pub fn find_statements(&self, text: &str) -> Vec<StatementMatch> {
        self.find_statements_with(text, &SiteNames::default())
    }

    /// Every disclosure statement in `text`, in text order, at most one per sentence (the
    /// strongest); `names` are the site's own names (the `site_name` class).
    pub fn find_statements_with(&self, text: &str, names: &SiteNames) -> Vec<StatementMatch> {
        // Menus, footers and widgets repeat on every page of a site: short blocks are answered
        // from a per-thread cache of recent results.
        if text.len() > CACHE_TEXT_MAX {
            return self.find_uncached(text, names);
        }
        let key = {
            use std::hash::{Hash, Hasher};
            let mut h = rustc_hash::FxHasher::default();
            self.id.hash(&mut h);
            text.hash(&mut h);
            names.keys().hash(&mut h);
            h.finish()
        };
        let cached = RESULTS.with(|c| {
            c.borrow()
                .get(&key)
                .filter(|(t, _)| t == text)
                .map(|(_, r)| r.clone())
        });
        if let Some(found) = cached {
            return found;
        }
        let found = self.find_uncached(text, names);
        RESULTS.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= CACHE_ENTRIES {
                c.clear();
            }
            c.insert(key, (text.to_string(), found.clone()));
        });
        found
    }

    fn find_uncached(&self, text: &str, names: &SiteNames) -> Vec<StatementMatch> {
        let tokens = tokenize(text);
        let mut list: Vec<Hit> = Vec::new();
        for i in 0..tokens.len() {
            let lower = tokens.lower(i);
            self.lookup(lower, &tokens, i, 0, &mut list);
            if !self.prefixes.is_empty() && !lower.is_ascii() {
                for p in &self.prefixes {
                    if let Some(rest) = lower.strip_prefix(p.as_str())
                        && rest.chars().count() >= 2
                    {
                        self.lookup(rest, &tokens, i, p.len(), &mut list);
                    }
                }
            }
        }
        if list.is_empty() {
            return Vec::new();
        }
        // Which classes occur at all, and the forms whose anchor class occurs.
        let mut present = Present::new(self.set_count);
        let mut candidates: Vec<u32> = Vec::new();
        for h in &list {
            if !present.has(h.set) {
                present.set(h.set);
                candidates.extend_from_slice(&self.by_anchor[h.set]);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|&i| present.ready(&self.statements[i as usize], true));
        if candidates.is_empty() {
            return Vec::new();
        }
        // Names are costly to find: only when a form that uses them has all its other parts.
        if self.uses_names
            && candidates
                .iter()
                .any(|&i| self.statements[i as usize].uses_names)
        {
            if !names.is_empty() {
                site_name_hits(&tokens, names, &mut list);
            }
            self.name_hits(&tokens, &mut list);
            present.set(NAME_SET);
            if list.iter().any(|h| h.set == SITE_NAME_SET) {
                present.set(SITE_NAME_SET);
            }
        }
        list.sort_unstable_by_key(|h| (h.set, h.start, h.end));
        list.dedup();
        let hits = Hits { list };
        // Per sentence, the strongest form (the first in file order among equals).
        let mut best: FxHashMap<usize, (Strength, usize, usize, &Statement)> = FxHashMap::default();
        for st in candidates.iter().map(|&i| &self.statements[i as usize]) {
            if !present.ready(st, false) {
                continue;
            }
            for (start, end) in self.matches(st, &tokens, &hits) {
                let sentence = tokens[start].sentence;
                let better = best
                    .get(&sentence)
                    .is_none_or(|(strength, _, _, _)| st.strength > *strength);
                if better {
                    best.insert(sentence, (st.strength, start, end, st));
                }
            }
        }
        let mut found: Vec<_> = best.into_iter().collect();
        found.sort_by_key(|(sentence, _)| *sentence);
        found
            .into_iter()
            .map(|(sentence, (strength, start, end, st))| {
                let statements = self
                    .required
                    .iter()
                    .filter(|(_, set)| {
                        hits.of(*set)
                            .iter()
                            .any(|h| tokens[h.start].sentence == sentence)
                    })
                    .map(|(id, _)| id.clone())
                    .collect();
                StatementMatch {
                    span: tokens[start].start..tokens[end - 1].end,
                    sentence: sentence_range(text, &tokens, sentence),
                    strength,
                    statements,
                    rule: format!("{}/{}", self.langs[st.lang].id, st.id),
                }
            })
            .collect()
    }

    /// Records the terms that match at token `i`, whose lower-cased form (less a clitic prefix of
    /// `skipped` bytes) is `word`.
    fn lookup(&self, word: &str, tokens: &Tokens, i: usize, skipped: usize, out: &mut Vec<Hit>) {
        let exact = self.exact.get(word).into_iter().flatten();
        // Stems have at least STEM_KEY letters, so a shorter word cannot start with one.
        let stems = (word.len() >= STEM_KEY)
            .then(|| self.by_stem.get(stem_key(word)))
            .flatten()
            .into_iter()
            .flatten();
        for &t in exact.chain(stems) {
            let term = &self.terms[t];
            if let Some(end) = match_term(term, tokens, i, skipped) {
                out.extend(term.sets.iter().map(|&set| Hit { set, start: i, end }));
            }
        }
    }

    /// Proper names: runs of capitalized words that no class knows, and site names.
    fn name_hits(&self, tokens: &Tokens, list: &mut Vec<Hit>) {
        let mut known = vec![false; tokens.len()];
        for h in list.iter() {
            for k in &mut known[h.start..h.end] {
                *k = true;
            }
        }
        let sites: Vec<Hit> = list
            .iter()
            .filter(|h| h.set == SITE_NAME_SET)
            .map(|h| Hit {
                set: NAME_SET,
                ..*h
            })
            .collect();
        list.extend(sites);
        let name_like = |i: usize| {
            let t = &tokens[i];
            t.upper && !known[i] && !self.not_names.contains(tokens.lower(i))
        };
        let mut i = 0;
        while i < tokens.len() {
            if let Some(end) = domain_name(tokens, i) {
                // A publisher that names itself by its domain ("trailnotes.net earns …") is the
                // site; a merchant's domain ("amazon.com") is not.
                if !self.not_names.contains(tokens.lower(i)) {
                    for set in [NAME_SET, SITE_NAME_SET] {
                        list.push(Hit { set, start: i, end });
                    }
                }
                i = end;
                continue;
            }
            if !name_like(i) {
                i += 1;
                continue;
            }
            let mut end = i + 1;
            while end < tokens.len()
                && end - i < NAME_WORDS
                && tokens[end].sentence == tokens[i].sentence
                && name_like(end)
            {
                end += 1;
            }
            list.push(Hit {
                set: NAME_SET,
                start: i,
                end,
            });
            i = end;
        }
    }

    /// The (start, end) token spans where `st` matches and holds.
    fn matches(&self, st: &Statement, tokens: &Tokens, hits: &Hits) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut done_sentence = None;
        let first: Vec<Hit> = {
            let mut v: Vec<Hit> = st.shape.parts()[0]
                .iter()
                .flat_map(|&s| hits.of(s).iter().copied())
                .collect();
            v.sort_unstable_by_key(|h| (h.start, h.end));
            v
        };
        for h in first {
            let sentence = tokens[h.start].sentence;
            if done_sentence == Some(sentence)
                || (tokens.questions[sentence]
                    && !self.question_is_statement(&self.langs[st.lang], sentence, tokens, hits))
            {
                continue;
            }
            let mut chosen = vec![h];
            let ok = match &st.shape {
                // Each next part follows the previous one within its gap; words of an aside in
                // brackets do not count ("affiliate ads (Amazon, eBay) are used").
                Shape::Ordered { parts, gaps } => {
                    let fits = |chosen: &[Hit], h: &Hit| {
                        let prev = chosen.last().expect("a first part");
                        if h.start < prev.end {
                            return false;
                        }
                        let gap = h.start - prev.end;
                        let gap = if gap > gaps[chosen.len() - 1] {
                            gap - (prev.end..h.start).filter(|&i| tokens[i].paren).count()
                        } else {
                            gap
                        };
                        gap <= gaps[chosen.len() - 1]
                    };
                    self.extend(st, parts, &fits, tokens, hits, &mut chosen)
                }
                // Any order, no overlap, all inside `within` words.
                Shape::AnyOrder { parts, within } => {
                    let fits = |chosen: &[Hit], h: &Hit| {
                        let lo = chosen.iter().map(|c| c.start).min().expect("non-empty");
                        let hi = chosen.iter().map(|c| c.end).max().expect("non-empty");
                        !chosen.iter().any(|c| h.start < c.end && c.start < h.end)
                            && hi.max(h.end) - lo.min(h.start) <= *within
                    };
                    self.extend(st, parts, &fits, tokens, hits, &mut chosen)
                }
            };
            if let Some(span) = ok {
                out.push(span);
                done_sentence = Some(sentence);
            }
        }
        out
    }

    /// Chooses a hit for each part after those in `chosen`, in the first part's sentence, where
    /// `fits` accepts it; returns the span of the first choice for which the form holds.
    fn extend(
        &self,
        st: &Statement,
        parts: &[Part],
        fits: &dyn Fn(&[Hit], &Hit) -> bool,
        tokens: &Tokens,
        hits: &Hits,
        chosen: &mut Vec<Hit>,
    ) -> Option<(usize, usize)> {
        let k = chosen.len();
        if k == parts.len() {
            return self.holds(st, tokens, hits, chosen);
        }
        let sentence = tokens.sentence(tokens[chosen[0].start].sentence)?;
        for &set in &parts[k] {
            for h in hits.starting(set, sentence.clone()) {
                if !fits(chosen, h) {
                    continue;
                }
                chosen.push(*h);
                if let Some(span) = self.extend(st, parts, fits, tokens, hits, chosen) {
                    return Some(span);
                }
                chosen.pop();
            }
        }
        None
    }

    /// Whether a question sentence still states something: it opens with an invitation ("Want to
    /// support the blog?"), the next sentence answers it with yes ("… ? Yes — a small
    /// commission"), or it is a statement with a tag question ("We earn a commission, right?").
    fn question_is_statement(
        &self,
        lang: &Lang,
        sentence: usize,
        tokens: &Tokens,
        hits: &Hits,
    ) -> bool {
        let opens = |set: Option<usize>, s: usize| {
            set.zip(tokens.sentence(s)).is_some_and(|(set, span)| {
                !hits.starting(set, span.start..span.start + 1).is_empty()
            })
        };
        let tagged = lang.tag.is_some_and(|tag| {
            let last = tokens.sentence(sentence).map(|span| span.end - 1);
            last.is_some_and(|last| {
                last > 0
                    && tokens[last - 1].sentence == sentence
                    && tokens[last - 1].clause != tokens[last].clause
                    && !hits.starting(tag, last..last + 1).is_empty()
            })
        });
        opens(lang.invite, sentence) || opens(lang.yes, sentence + 1) || tagged
    }

    /// Checks the conditions beyond the parts themselves; returns the span when they hold.
    fn holds(
        &self,
        st: &Statement,
        tokens: &Tokens,
        hits: &Hits,
        chosen: &[Hit],
    ) -> Option<(usize, usize)> {
        let start = chosen.iter().map(|h| h.start).min()?;
        let end = chosen.iter().map(|h| h.end).max()?;
        let sentence = tokens[start].sentence;
        let sent = tokens.sentence(sentence)?;
        let lang = &self.langs[st.lang];
        let inside_parts = |i: usize| chosen.iter().any(|c| c.start <= i && i < c.end);
        // "at no extra cost to you": the `you` of a cost phrase is nobody who earns.
        let after_cost = |i: usize| {
            lang.cost.is_some_and(|cost| {
                hits.starting(cost, sent.start..i)
                    .iter()
                    .any(|c| i <= c.end + COST_REACH)
            })
        };
        // "we often, but not always, receive": an exception phrase is an aside.
        let in_exception = |i: usize| {
            hits.starting(lang.exception, sent.start..i + 1)
                .iter()
                .any(|e| i < e.end)
        };
        for &set in &st.blocked {
            if hits.starting(set, start..end).iter().any(|h| {
                h.end <= end
                    && !inside_parts(h.start)
                    && !tokens[h.start].paren
                    && !after_cost(h.start)
                    && !in_exception(h.start)
            }) {
                return None;
            }
        }
        for &set in &st.unless {
            if !hits.starting(set, sent.clone()).is_empty() {
                return None;
            }
        }
        if let Some(wh) = lang.wh
            && hits.starting(wh, sent.start..start).iter().any(|w| {
                w.end <= start
                    && start - w.end <= 1
                    && tokens[w.start].clause == tokens[start].clause
            })
        {
            return None;
        }
        // A neighbouring sentence that negates ("We do not use affiliate links.") lends nothing.
        let negating = |s: usize| {
            tokens.sentence(s).is_some_and(|span| {
                hits.starting(lang.negation, span)
                    .iter()
                    .any(|n| !tokens[n.start].paren && negates(lang, n, tokens, hits))
            })
        };
        // The sentence and its neighbours in the block.
        let near_from = sentence
            .checked_sub(1)
            .and_then(|s| tokens.sentence(s))
            .map_or(sent.start, |s| s.start);
        let near_to = tokens.sentence(sentence + 1).map_or(sent.end, |s| s.end);
        for part in &st.requires {
            let near = part.iter().any(|&set| {
                hits.starting(set, near_from..near_to).iter().any(|h| {
                    let s = tokens[h.start].sentence;
                    !inside_parts(h.start) && (s == sentence || !negating(s))
                })
            });
            if !near {
                return None;
            }
        }
        if self.negated(lang, start, end, tokens, hits) {
            return None;
        }
        Some((start, end))
    }

    /// Whether a negation of the language stands inside `start..end` or just before it in the same
    /// clause, and is not part of an exception ("may or may not"), in brackets, or directly before
    /// a `cost` term ("no extra cost").
    fn negated(&self, lang: &Lang, start: usize, end: usize, tokens: &Tokens, hits: &Hits) -> bool {
        let sentence = tokens[start].sentence;
        let Some(sent) = tokens.sentence(sentence) else {
            return false;
        };
        let clause = tokens[start].clause;
        let breaks_between = |from: usize, to: usize| {
            from < to && !hits.starting(lang.clause_break, from..to).is_empty()
        };
        if let Some(set) = lang.neg_subject
            && hits.starting(set, sent.start..start).iter().any(|n| {
                n.end <= start
                    && tokens[n.start].clause == clause
                    && !tokens[n.start].paren
                    && !breaks_between(n.end, start)
            })
        {
            return true;
        }
        let from = start.saturating_sub(NEGATION_REACH);
        hits.starting(lang.negation, sent).iter().any(|n| {
            let t = &tokens[n.start];
            // A negation that opens the sentence ("None of the links …") reaches its whole clause.
            let opens = n.start == 0 || tokens[n.start - 1].sentence != sentence;
            let after = n.start >= end;
            if t.sentence != sentence
                || t.paren
                || (after
                    && (n.start - end >= lang.negation_after || t.clause != tokens[end - 1].clause))
                || (n.start < from && !opens)
            {
                return false;
            }
            if n.start < start {
                // Before the statement: only within its clause, with no clause break between.
                if t.clause != tokens[start].clause || breaks_between(n.end, start) {
                    return false;
                }
            }
            negates(lang, n, tokens, hits)
        })
    }

    /// Whether `text` (a whole block) is a stand-alone disclosure label: a label or an inline label
    /// as the whole text ("Anzeige", "(paid link)"), a label before `:`, `|`, `/` or a dash
    /// ("Werbung: Das neue Zelt im Test"), a hashtag label anywhere ("… #ad"), or a short list
    /// intro that carries an inline label ("Products in this video (affiliate links):").
    pub fn is_label(&self, text: &str) -> bool {
        let text = text.trim();
        if self.short(text, 1) && self.is_any_label(text) {
            return true;
        }
        // A label is short, so only the first and last `label_limit` bytes can hold one: the
        // searches below stay within them, whatever the length of the block.
        let head = &text[..byte_of_char(text, self.label_limit + 3)];
        if let Some(cut) = head.find([':', '|', '/', '–', '—', '：', '·', '•'])
            && self.is_any_label(&text[..cut])
        {
            return true;
        }
        // "(Anzeige) Die besten Zelte", "[Werbung] …": a bracketed label opening the block.
        if let Some(inner) = leading_group(head)
            && self.is_inline(inner)
        {
            return true;
        }
        if let Some(cut) = head.find(" - ")
            && self.is_any_label(&text[..cut])
        {
            return true;
        }
        // The heading checks below are for short blocks only.
        if !self.short(text, 2) {
            return self.hashtag_label(text);
        }
        // "Our top picks - includes affiliate links": a label after the last separator.
        let chars = text.chars().count();
        let tail = &text[byte_of_char(text, chars.saturating_sub(self.label_limit + 3))..];
        if let Some(at) = [" - ", " – ", " — ", " | ", " · ", " / "]
            .iter()
            .filter_map(|sep| tail.rfind(sep).map(|i| i + sep.len()))
            .max()
            && self.is_inline(tail[at..].trim().trim_end_matches(['.', '!', ')']))
        {
            return true;
        }
        // "Direct Affiliate Links", "Amazon paid links": a short heading ending with an inline
        // label of two or more words.
        let words = if self.short(text, 1) {
            word_starts(text)
        } else {
            Vec::new()
        };
        if (2..=4).contains(&words.len())
            && !self
                .wh_words
                .contains(&label_key(&text[..words.get(1).copied().unwrap_or(0)]))
            && words[1..].iter().any(|&at| {
                let tail = &text[at..];
                word_starts(tail).len() >= 2 && self.is_inline_only(tail)
            })
        {
            return true;
        }
        self.hashtag_label(text) || self.is_list_intro(text)
    }

    /// Whether `text` has at most `times` × `label_limit` characters (counted only when its
    /// bytes leave a doubt).
    fn short(&self, text: &str, times: usize) -> bool {
        let limit = self.label_limit * times;
        text.len() <= limit || (text.len() <= limit * 4 && text.chars().count() <= limit)
    }

    /// Whether `text`, as a whole, is a label or an inline label.
    fn is_any_label(&self, text: &str) -> bool {
        let key = label_key(text);
        self.labels.contains(&key) || self.inline_labels.contains(&key)
    }

    /// Whether `text`, as a whole, is an inline label ("paid link", "affiliate") or, in brackets or
    /// after a separator, a label ("(Anzeige)").
    fn is_inline(&self, text: &str) -> bool {
        self.short(text, 1) && self.is_any_label(text)
    }

    /// Whether `text`, as a whole, is an inline label proper (not a block label such as "Ad").
    fn is_inline_only(&self, text: &str) -> bool {
        self.short(text, 1) && self.inline_labels.contains(&label_key(text))
    }

    fn hashtag_label(&self, text: &str) -> bool {
        text.match_indices('#').any(|(i, _)| {
            let rest = &text[i + 1..];
            let word_end = rest
                .char_indices()
                .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .map_or(rest.len(), |(at, _)| at);
            let tag = &rest[..word_end];
            word_end > 0 && (self.is_any_label(tag) || self.is_any_label(&split_camel_case(tag)))
        })
    }

    /// A heading or list intro ending with `:` that labels what follows: "Gear I use — referral
    /// links:", "Products in this video (affiliate links):".
    fn is_list_intro(&self, text: &str) -> bool {
        let Some(body) = text.strip_suffix(':').or_else(|| text.strip_suffix('：')) else {
            return false;
        };
        if body.len() > 160 {
            return false;
        }
        if bracket_groups(body).any(|inner| self.is_inline(inner)) {
            return true;
        }
        // "… — referral links:": the words after the last separator.
        let cut = [" - ", " – ", " — ", " | ", " · ", ", "]
            .iter()
            .filter_map(|sep| body.rfind(sep).map(|at| at + sep.len()))
            .max();
        if let Some(at) = cut
            && self.is_inline(body[at..].trim())
        {
            return true;
        }
        // "Affiliate links in this video:": an inline label of two or three words first.
        let words = word_starts(body);
        words
            .iter()
            .skip(2)
            .take(2)
            .any(|&at| self.is_inline_only(&body[..at]))
            || (words.len() >= 2 && words.len() <= 3 && self.is_inline_only(body))
    }

    /// The label that discloses one link: in its text (`link_text`: a bracketed label, or a label
    /// as its last or whole words), or right after it (`after`: the block text that follows) or
    /// right before it (`before`) in brackets, after a dash, or as `Label:`. Returns the label's
    /// text.
    pub fn label_at_link<'t>(
        &self,
        link_text: &'t str,
        before: &'t str,
        after: &'t str,
    ) -> Option<&'t str> {
        if self.inline_labels.is_empty() && self.labels.is_empty() {
            return None;
        }
        let text = link_text.trim();
        if let Some(inner) = bracket_groups(text).find(|inner| self.is_inline(inner)) {
            return Some(inner);
        }
        // The last words of the link text ("Amazon-Partnerlink", "Buy on Amazon – paid link").
        let words = word_starts(text);
        for &at in words.iter().rev().take(4) {
            if self.is_inline_only(&text[at..]) {
                return Some(text[at..].trim());
            }
        }
        let after = after.trim_start();
        if let Some(inner) = leading_group(after)
            && self.is_inline(inner)
        {
            return Some(inner);
        }
        let stripped =
            after.trim_start_matches(['-', '–', '—', '|', ':', '·', '•', '/', ' ', '#', '*']);
        if stripped.len() < after.len() || after.starts_with(|c: char| c.is_alphanumeric()) {
            let cut = stripped
                .find(['.', ',', ';', '!', '?', '(', ')', '[', '\n', '|'])
                .unwrap_or(stripped.len());
            let chunk = stripped[..cut].trim();
            if !chunk.is_empty() && self.is_inline(chunk) {
                return Some(chunk);
            }
        }
        let before = before.trim_end();
        if let Some(inner) = trailing_group(before)
            && self.is_inline(inner)
        {
            return Some(inner);
        }
        if let Some(hash) = before.rfind('#')
            && !before[hash..].contains(char::is_whitespace)
            && self.is_label(&before[hash..])
        {
            return Some(&before[hash..]);
        }
        // A list intro in the same block: "Products in this video (affiliate links): [[…]]".
        let intro_from = before.rfind(['.', '!', '?', '\n']).map_or(0, |at| at + 1);
        if let Some(colon) = before[intro_from..].rfind([':', '：']) {
            let end = intro_from + colon + before[intro_from + colon..].chars().next()?.len_utf8();
            let intro = before[intro_from..end].trim();
            if self.is_list_intro(intro) {
                return Some(intro);
            }
        }
        if let Some(body) = before
            .strip_suffix([':', '|', '–', '—', '：', '·', '•'])
            .map(str::trim_end)
        {
            let from = body
                .rfind(['.', '!', '?', '\n', ')', ']'])
                .map_or(0, |at| at + 1);
            let chunk = body[from..].trim();
            if !chunk.is_empty() && self.is_inline(chunk) {
                return Some(chunk);
            }
        }
        None
    }

    /// A statement written right after a link, in brackets or after a dash ("[[Mug]] (we earn a
    /// commission if you buy)", "[[Mug]] — we earn a commission on purchases through this link"):
    /// the statement and the text it was found in.
    pub fn statement_at_link<'t>(
        &self,
        after: &'t str,
        names: &SiteNames,
    ) -> Option<(StatementMatch, &'t str)> {
        let after = after.trim_start();
        let text = match leading_group(after) {
            Some(inner) => inner,
            None => {
                let rest = after.strip_prefix(['–', '—', '-', ':', '|'])?.trim_start();
                let end = rest
                    .find(['.', '!', '?', '\n'])
                    .map_or(rest.len(), |e| e + 1);
                &rest[..end]
            }
        };
        let m = self.find_statements_with(text, names).into_iter().next()?;
        Some((m, text))
    }

    /// The legend markers that `text` (a disclosure sentence or label) explains.
    pub fn markers_in(&self, text: &str) -> Vec<char> {
        self.markers
            .iter()
            .copied()
            .filter(|&m| text.contains(m))
            .collect()
    }

    /// The marker a link carries: the last character of its text, or the first one after it.
    pub fn link_marker(&self, link_text: &str, after: &str) -> Option<char> {
        let last = link_text.trim_end().chars().last();
        let next = after.trim_start_matches(' ').chars().next();
        [last, next]
            .into_iter()
            .flatten()
            .find(|c| self.markers.contains(c))
    }

    /// Whether a link's whole text only names a disclosure found elsewhere ("Affiliate disclosure").
    pub fn is_link_label(&self, text: &str) -> bool {
        let text = text.trim();
        self.short(text, 1) && self.link_labels.contains(&label_key(text))
    }
}

/// Whether the negation hit `n` negates at all: not inside an exception phrase ("may or may
/// not"), nor right before a `cost` term in its clause ("at no extra cost", "ohne Mehrkosten").
fn negates(lang: &Lang, n: &Hit, tokens: &Tokens, hits: &Hits) -> bool {
    let from = tokens
        .sentence(tokens[n.start].sentence)
        .map_or(0, |s| s.start);
    if hits
        .starting(lang.exception, from..n.start + 1)
        .iter()
        .any(|e| n.end <= e.end)
    {
        return false;
    }
    let clause = tokens[n.start].clause;
    !lang.cost.is_some_and(|cost| {
        hits.starting(cost, n.end..n.end + COST_REACH + 1)
            .iter()
            .any(|c| tokens[c.start].clause == clause)
    })
}

/// A site named by its domain ("frugalfinch.com", "Vareni-Snadno.cz"): words joined by dots or
/// hyphens with nothing between them, the last joint a dot and the last word of 2 to 6 letters.
/// Returns the end token.
fn domain_name(tokens: &Tokens, i: usize) -> Option<usize> {
    if i > 0 && tokens[i - 1].joint_after != 0 && tokens[i].start == tokens[i - 1].end + 1 {
        return None; // inside a longer joined name
    }
    let mut end = i + 1;
    while end < tokens.len()
        && tokens[end].sentence == tokens[i].sentence
        && tokens[end].start == tokens[end - 1].end + 1
        && tokens[end - 1].joint_after != 0
    {
        end += 1;
    }
    let last = tokens.lower(end - 1);
    let letters = last.chars().count();
    (end - i >= 2
        && tokens[end - 2].joint_after == b'.'
        && (2..=6).contains(&letters)
        && last.chars().all(char::is_alphabetic)
        && tokens.lower(i).chars().count() >= 3)
        .then_some(end)
}

/// The byte offset of character number `n` of `text` (its length when it is shorter).
fn byte_of_char(text: &str, n: usize) -> usize {
    if n >= text.len() {
        return text.len();
    }
    text.char_indices().nth(n).map_or(text.len(), |(at, _)| at)
}

/// `CommissionsEarned` → `Commissions Earned` (hashtags run words together).
fn split_camel_case(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len() + 4);
    let mut prev_lower = false;
    for c in tag.chars() {
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_lowercase();
        out.push(c);
    }
    out
}

/// The inner texts of the bracket groups in `text`: `(…)`, `[…]`, `（…）`, `【…】`.
fn bracket_groups(text: &str) -> impl Iterator<Item = &str> {
    const PAIRS: [(char, char); 4] = [('(', ')'), ('[', ']'), ('（', '）'), ('【', '】')];
    text.char_indices().filter_map(move |(i, c)| {
        let close = PAIRS.iter().find(|(o, _)| *o == c)?.1;
        let rest = &text[i + c.len_utf8()..];
        rest.find(close).map(|end| rest[..end].trim())
    })
}

/// The inner text of a bracket group that `text` starts with.
fn leading_group(text: &str) -> Option<&str> {
    let c = text.chars().next()?;
    if !matches!(c, '(' | '[' | '（' | '【') {
        return None;
    }
    bracket_groups(text).next()
}

/// The inner text of a bracket group that `text` ends with.
fn trailing_group(text: &str) -> Option<&str> {
    let (open, close) = match text.chars().last()? {
        ')' => ('(', ')'),
        ']' => ('[', ']'),
        '）' => ('（', '）'),
        '】' => ('【', '】'),
        _ => return None,
    };
    let body = &text[..text.len() - close.len_utf8()];
    body.rfind(open)
        .map(|at| body[at + open.len_utf8()..].trim())
}

/// Byte offsets where the words of `text` start.
fn word_starts(text: &str) -> Vec<usize> {
    let t = tokenize(text);
    t.list.iter().map(|w| w.start).collect()
}

/// Site names in the text: runs of words whose letters, joined, spell a name.
fn site_name_hits(tokens: &Tokens, names: &SiteNames, out: &mut Vec<Hit>) {
    for i in 0..tokens.len() {
        for key in names.keys() {
            let mut joined = 0;
            let mut j = i;
            while j < tokens.len() && j - i < NAME_WORDS && tokens[j].sentence == tokens[i].sentence
            {
                let w = tokens.lower(j);
                if !key[joined..].starts_with(w) {
                    break;
                }
                joined += w.len();
                j += 1;
                if joined == key.len() {
                    out.push(Hit {
                        set: SITE_NAME_SET,
                        start: i,
                        end: j,
                    });
                    break;
                }
            }
        }
    }
}

/// Label comparison key: lower-cased words joined by single spaces.
///
/// The same words as [`tokenize`] finds, built in one pass without its bookkeeping (this runs on
/// every short block and every link text).
fn label_key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start: Option<usize> = None;
    let finish = |out: &mut String, start: usize, end: usize| {
        let word = &text[start..end];
        if !out.is_empty() {
            out.push(' ');
        }
        if (word == "t" || word == "T") && text[..start].ends_with(['\'', '’']) {
            out.push_str("not");
        } else {
            push_lower(out, word);
        }
    };
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(s) = word_start.take() {
            finish(&mut out, s, i);
        }
        if unspaced(c) || symbol_word(c) {
            finish(&mut out, i, i + c.len_utf8());
        }
    }
    if let Some(s) = word_start {
        finish(&mut out, s, text.len());
    }
    out
}

/// Appends `word` lower-cased, with the folds [`push_token`] applies.
fn push_lower(out: &mut String, word: &str) {
    if word.is_ascii() {
        out.extend(word.bytes().map(|b| b.to_ascii_lowercase() as char));
        return;
    }
    for c in word.chars().flat_map(char::to_lowercase) {
        match c {
            '\u{307}' => {}
            'ı' => out.push('i'),
            'ς' => out.push('σ'),
            c => out.push(c),
        }
    }
}

/// The first [`STEM_KEY`] characters of a word (all of a shorter one).
fn stem_key(word: &str) -> &str {
    match word.char_indices().nth(STEM_KEY) {
        Some((at, _)) => &word[..at],
        None => word,
    }
}

/// Matches all words of `term` from token `i`, within one sentence; the first word is compared
/// after `skipped` bytes of a clitic prefix. Returns the end token (exclusive).
fn match_term(term: &Term, tokens: &Tokens, i: usize, skipped: usize) -> Option<usize> {
    let sentence = tokens[i].sentence;
    for (k, word) in term.words.iter().enumerate() {
        if i + k >= tokens.len() || tokens[i + k].sentence != sentence {
            return None;
        }
        let lower = tokens.lower(i + k);
        let lower = if k == 0 { &lower[skipped..] } else { lower };
        if !word.matches(lower) {
            return None;
        }
    }
    Some(i + term.words.len())
}

/// Parses `a|b`: a part naming one or more classes.
fn parse_part(piece: &str, sets: &HashMap<&str, usize>) -> Result<Part, String> {
    piece
        .split('|')
        .map(|name| {
            sets.get(name.trim()).copied().ok_or_else(|| {
                format!(
                    "`{piece}` names `{name}`, which is not in `terms` (nor `name`, `site_name`)"
                )
            })
        })
        .collect()
}

/// Parses a list of parts (`requires`, `unless`, `blocked_by`).
fn parse_parts(list: &[String], sets: &HashMap<&str, usize>) -> Result<Vec<Part>, String> {
    list.iter().map(|p| parse_part(p, sets)).collect()
}

/// Parses `self ~4 earn ~6 money` into parts and the gaps between them.
fn parse_pattern(
    pattern: &str,
    sets: &HashMap<&str, usize>,
) -> Result<(Vec<Part>, Vec<usize>), String> {
    let mut parts: Vec<Part> = Vec::new();
    let mut gaps: Vec<usize> = Vec::new();
    let mut expect_name = true;
    for piece in pattern.split_whitespace() {
        if let Some(n) = piece.strip_prefix('~') {
            if expect_name {
                return Err(format!(
                    "pattern `{pattern}`: `{piece}` must follow a term list name"
                ));
            }
            let gap = n.parse().map_err(|_| {
                format!("pattern `{pattern}`: `{piece}` should be `~` and a number")
            })?;
            *gaps.last_mut().expect("a name came first") = gap;
            expect_name = true;
        } else {
            let part = parse_part(piece, sets).map_err(|e| format!("pattern `{pattern}`: {e}"))?;
            parts.push(part);
            gaps.push(0);
            expect_name = false;
        }
    }
    if parts.is_empty() {
        return Err("empty pattern".into());
    }
    gaps.pop();
    Ok((parts, gaps))
}

/// Letters of scripts written without spaces between words: each is a token of its own.
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF // Thai, Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1100..=0x11FF // Hangul Jamo
        | 0x1780..=0x17FF // Khmer
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3130..=0x318F // Hangul compatibility Jamo
        | 0x31F0..=0x31FF // Katakana extensions
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xAC00..=0xD7AF // Hangul syllables
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0xFF66..=0xFF9F // half-width Katakana
        | 0x20000..=0x2FFFF // CJK extensions B–F
    )
}

/// Letters and digits that build words: not those of unspaced scripts (a token each), nor
/// superscript digits, which mark footnotes and legends ("Zelt¹").
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric()
            && !unspaced(c)
            && !matches!(c, '¹' | '²' | '³' | '\u{2070}'..='\u{209F}')
    }
}

/// Symbols that are words of their own ("a small % of the price").
fn symbol_word(c: char) -> bool {
    matches!(
        c,
        '%' | '％' | '$' | '€' | '£' | '¥' | '₹' | '₽' | '₺' | '₩' | '₫' | '฿' | '₴' | '₪'
    )
}

/// Splits text into lower-cased word tokens with byte offsets, sentence and clause numbers.
fn tokenize(text: &str) -> Tokens {
    let mut tokens = Tokens {
        list: Vec::with_capacity(text.len() / 6 + 1),
        lower: String::with_capacity(text.len()),
        questions: Vec::new(),
        spans: Vec::new(),
    };
    let mut sentence = 0;
    let mut clause = 0;
    let mut paren = 0u32;
    let mut dash_open = false;
    let mut start: Option<usize> = None;
    let mut chars = text.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        let word_char = is_word_char(c);
        // Where a token ending here stands: the state before this character changes it.
        let ctx = Ctx {
            sentence,
            clause,
            paren: paren > 0,
        };
        if word_char {
            if start.is_none() {
                start = Some(i);
            }
            prev = Some(c);
            continue;
        }
        if let Some(s) = start.take() {
            push_token(&mut tokens, text, s, i, ctx);
        }
        if unspaced(c) || symbol_word(c) {
            push_token(&mut tokens, text, i, i + c.len_utf8(), ctx);
            prev = Some(c);
            continue;
        }
        let next = chars.peek().map(|&(_, n)| n);
        let ends = match c {
            '\n' | '|' | '•' | '。' | '！' | '？' | '؟' | '।' | '︒' | '｡' | '\u{37E}' => {
                true
            }
            '.' | '!' | '?' | ';' | ':' | '…' => {
                next.is_none_or(char::is_whitespace)
                    && !prev.is_some_and(|p| p.is_numeric() && next.is_some_and(char::is_numeric))
            }
            _ => false,
        };
        match c {
            '(' | '[' | '（' | '【' => paren += 1,
            ')' | ']' | '）' | '】' => paren = paren.saturating_sub(1),
            '—' | '–' => {
                clause += 1;
                // A pair of dashes in one sentence brackets an aside ("we may — depending on the
                // shop — receive …"), like parentheses.
                if dash_open {
                    dash_open = false;
                    paren = paren.saturating_sub(1);
                } else {
                    let rest = &text[i + c.len_utf8()..];
                    // Looks no further than the next dash, so a text of many dashes stays
                    // linear.
                    let closes = rest
                        .find(['—', '–'])
                        .is_some_and(|d| !rest[..d].contains(['.', '!', '?', '\n', '。', ';']));
                    if closes {
                        dash_open = true;
                        paren += 1;
                    }
                }
            }
            ',' | '，' | '、' | '،' => clause += 1,
            _ => {}
        }
        if ends {
            let question = matches!(c, '?' | '？' | '؟' | '\u{37E}');
            set_question(&mut tokens, sentence, question);
            sentence += 1;
            clause += 1;
            paren = 0;
            dash_open = false;
        }
        prev = Some(c);
    }
    if let Some(s) = start {
        let ctx = Ctx {
            sentence,
            clause,
            paren: paren > 0,
        };
        push_token(&mut tokens, text, s, text.len(), ctx);
    }
    let sentences = tokens.list.last().map_or(0, |t| t.sentence + 1);
    tokens
        .questions
        .resize(sentences.max(tokens.questions.len()), false);
    tokens.spans = vec![0..0; sentences];
    for (i, t) in tokens.list.iter().enumerate() {
        let span = &mut tokens.spans[t.sentence];
        if span.start == span.end {
            *span = i..i + 1;
        } else {
            span.end = i + 1;
        }
    }
    tokens
}

/// Where a token stands.
#[derive(Clone, Copy)]
struct Ctx {
    sentence: usize,
    clause: usize,
    paren: bool,
}

fn set_question(tokens: &mut Tokens, sentence: usize, question: bool) {
    if tokens.questions.len() <= sentence {
        tokens.questions.resize(sentence + 1, false);
    }
    tokens.questions[sentence] = question;
}

fn push_token(tokens: &mut Tokens, text: &str, start: usize, end: usize, ctx: Ctx) {
    let word = &text[start..end];
    let from = tokens.lower.len();
    let mut upper = false;
    // "don't", "isn't": the `t` after an apostrophe is the negation "not".
    if (word == "t" || word == "T") && text[..start].ends_with(['\'', '’']) {
        tokens.lower.push_str("not");
    } else {
        upper = if word.is_ascii() {
            word.bytes().any(|b| b.is_ascii_uppercase())
        } else {
            word.chars().any(char::is_uppercase)
        };
        // Turkish `İ` lower-cases to `i` + a combining dot, and the dotless `ı` is folded to `i`,
        // so that `KAZANIYORUZ` (whose `I` lower-cases to `i`) meets `kazanıyoruz`; Greek final
        // sigma.
        push_lower(&mut tokens.lower, word);
    }
    let to = tokens.lower.len();
    tokens.list.push(Token {
        start,
        end,
        sentence: ctx.sentence,
        clause: ctx.clause,
        paren: ctx.paren,
        upper,
        joint_after: match text.as_bytes().get(end) {
            Some(&b) if b == b'.' || b == b'-' => b,
            _ => 0,
        },
        lower: from..to,
    });
}

/// The byte range of sentence number `sentence`, trimmed of separators.
fn sentence_range(text: &str, tokens: &Tokens, sentence: usize) -> Range<usize> {
    let list = &tokens.list;
    let span = tokens.sentence(sentence).expect("sentence has a token");
    let (first, last) = (span.start, span.end - 1);
    let mut end = list[last].end;
    // Keep the sentence's closing punctuation.
    if let Some(c) = text[end..].chars().next()
        && matches!(c, '.' | '!' | '?' | '。' | '！' | '।')
    {
        end += c.len_utf8();
    }
    list[first].start..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Ruleset;

    fn matcher() -> Ruleset {
        Ruleset::defaults().expect("default rules")
    }

    fn finds(text: &str) -> Option<Strength> {
        let rules = matcher();
        rules
            .phrases()
            .find_statements(text)
            .first()
            .map(|m| m.strength)
    }

    #[test]
    fn tokens_split_words_sentences_and_clauses() {
        let t =
            tokenize("Werbung: Dieser Artikel enthält Affiliate-Links. Version 2.5 ist gut, ja");
        let words: Vec<_> = (0..t.len()).map(|i| (t.lower(i), t[i].sentence)).collect();
        assert_eq!(words[0], ("werbung", 0));
        assert_eq!(words[1], ("dieser", 1));
        assert_eq!(words[4], ("affiliate", 1));
        assert_eq!(words[5], ("links", 1));
        assert_eq!(words[6], ("version", 2));
        assert_eq!(
            words[7],
            ("2", 2),
            "a decimal point does not end a sentence"
        );
        assert_ne!(t[10].clause, t[11].clause, "a comma starts a clause");
    }

    #[test]
    fn unspaced_scripts_are_read_letter_by_letter() {
        let t = tokenize("当サイトは収入を得ています。次");
        assert_eq!(t.lower(0), "当");
        assert_eq!(t.lower(1), "サ");
        assert_eq!(t[t.len() - 1].sentence, 1, "。 ends a sentence");
    }

    #[test]
    fn percent_signs_are_words_and_questions_are_marked() {
        let t = tokenize("We get a small % of it? Yes.");
        assert!((0..t.len()).any(|i| t.lower(i) == "%"));
        assert!(t.questions[0]);
        assert!(!t.questions[1]);
    }

    #[test]
    fn turkish_dotted_capital_i_lower_cases_to_plain_i() {
        let t = tokenize("İŞBİRLİĞİ");
        assert_eq!(t.lower(0), "işbirliği");
    }

    #[test]
    fn domains_are_names_with_dots_and_hyphens() {
        let t = tokenize("Vareni-Snadno.cz and trailnotes.net, not Affiliate-Links or e.g. this");
        assert_eq!(domain_name(&t, 0), Some(3));
        assert_eq!(domain_name(&t, 1), None, "inside the joined name");
        assert_eq!(domain_name(&t, 4), Some(6));
        assert_eq!(domain_name(&t, 7), None, "a hyphenated word without a dot");
    }

    #[test]
    fn label_keys_join_the_words_tokenize_finds() {
        for text in [
            "Affiliate-Links",
            "  (Paid   link) ",
            "Don’t earn",
            "#Werbung | Anzeige",
            "本記事はPRを含みます",
            "İŞBİRLİĞİ · ΔΙΑΦΉΜΙΣΗ ΣΤΟΧΟΣ",
            "10% off: $5",
            "",
        ] {
            let t = tokenize(text);
            let joined = (0..t.len())
                .map(|i| t.lower(i))
                .collect::<Vec<_>>()
                .join(" ");
            assert_eq!(label_key(text), joined, "{text:?}");
        }
    }

    #[test]
    fn turkish_capitals_meet_lower_case_terms() {
        let t = tokenize("KAZANIYORUZ kazanıyoruz");
        assert_eq!(t.lower(0), t.lower(1));
    }

    #[test]
    fn contraction_t_becomes_not() {
        let t = tokenize("We don’t earn");
        assert_eq!(t.lower(2), "not");
    }

    #[test]
    fn english_statements_are_found() {
        assert_eq!(
            finds("We may earn a commission when you buy through links on our site."),
            Some(Strength::Explicit)
        );
        assert_eq!(
            finds(
                "Affiliate disclosure: we receive a commission when you buy through links on this site."
            ),
            Some(Strength::Explicit)
        );
        assert_eq!(
            finds("As an Amazon Associate I earn from qualifying purchases."),
            Some(Strength::Explicit)
        );
        assert_eq!(
            finds("This post contains affiliate links."),
            Some(Strength::Label)
        );
    }

    #[test]
    fn general_explanations_are_not_disclosures() {
        assert_eq!(
            finds(
                "In affiliate marketing, a creator shares an affiliate link and earns a commission when a reader buys."
            ),
            None
        );
        assert_eq!(
            finds("A blogger receives a commission when a reader buys."),
            None
        );
    }

    #[test]
    fn negated_statements_are_not_disclosures() {
        assert_eq!(finds("We do not earn a commission from these links."), None);
        assert_eq!(finds("We don't earn any commission."), None);
        assert_eq!(finds("This post contains no affiliate links."), None);
    }

    #[test]
    fn a_negated_clause_does_not_cancel_the_next_one() {
        assert_eq!(
            finds(
                "We never accept payment for reviews, but we earn a commission on purchases made through our links."
            ),
            Some(Strength::Explicit)
        );
        assert_eq!(
            finds("We may earn a commission at no extra cost to you."),
            Some(Strength::Explicit)
        );
    }

    #[test]
    fn questions_are_not_disclosures() {
        assert_eq!(finds("Do we earn a commission from these links?"), None);
    }

    #[test]
    fn statement_does_not_span_sentences() {
        assert_eq!(finds("We tested it. Commission rates vary."), None);
    }

    #[test]
    fn amazon_statement_is_flagged() {
        let rules = matcher();
        let m = rules
            .phrases()
            .find_statements("As an Amazon Associate I earn from qualifying purchases.");
        assert_eq!(m[0].statements, ["amazon-associates"]);
        let m = rules.phrases().find_statements("We may earn a commission.");
        assert!(m[0].statements.is_empty());
    }

    #[test]
    fn amazon_statement_after_another_statement_in_the_same_block_is_found() {
        let rules = matcher();
        let m = rules.phrases().find_statements(
            "We earn a commission from links on this page. As an Amazon Associate I earn from qualifying purchases.",
        );
        assert_eq!(m.len(), 2);
        assert!(m[0].statements.is_empty());
        assert_eq!(m[1].statements, ["amazon-associates"]);
    }

    #[test]
    fn site_names_are_publishers() {
        let rules = matcher();
        let text =
            "Trusted Reviews may earn an affiliate commission when you purchase through links.";
        let mut names = SiteNames::new();
        names.add("trustedreviews");
        let m = rules.phrases().find_statements_with(text, &names);
        assert_eq!(m[0].strength, Strength::Explicit, "{m:?}");
    }

    #[test]
    fn site_name_keys_ignore_case_spaces_and_punctuation() {
        let mut names = SiteNames::new();
        names.add("Trusted Reviews");
        names.add("trusted-reviews");
        names.add("TV");
        assert_eq!(names.keys(), ["trustedreviews"]);
    }

    #[test]
    fn sentence_range_gives_an_excerpt() {
        let rules = matcher();
        let text = "Great boots. We may earn a commission. Buy now";
        let m = &rules.phrases().find_statements(text)[0];
        assert_eq!(&text[m.sentence.clone()], "We may earn a commission.");
    }

    #[test]
    fn labels_and_link_labels() {
        let rules = matcher();
        let p = rules.phrases();
        assert!(p.is_label("Anzeige"));
        assert!(p.is_label("Werbung: Das neue Zelt im Test"));
        assert!(p.is_label("(paid link)"));
        assert!(p.is_label("New tent review #ad"));
        assert!(p.is_label("Products in this video (affiliate links):"));
        assert!(!p.is_label("Werbung ist überall"));
        assert!(!p.is_label("What are affiliate links and how do they work"));
        assert!(p.is_link_label("Affiliate disclosure"));
        assert!(p.is_link_label("  Affiliate   policy "));
        assert!(!p.is_link_label("Read our affiliate disclosure to learn more about how we earn"));
    }

    #[test]
    fn labels_at_a_link() {
        let rules = matcher();
        let p = rules.phrases();
        assert_eq!(
            p.label_at_link("Tent X (paid link)", "", ""),
            Some("paid link")
        );
        assert_eq!(
            p.label_at_link("Tent X", "Buy ", " (affiliate) today"),
            Some("affiliate")
        );
        assert_eq!(p.label_at_link("Tent X", "[Ad] ", ""), Some("Ad"));
        assert_eq!(
            p.label_at_link("Tent X", "Check the ", " — affiliate link."),
            Some("affiliate link")
        );
        assert_eq!(p.label_at_link("Tent X", "Our pick: ", " is light."), None);
        assert_eq!(p.label_at_link("Tent X", "", " (2024 model)"), None);
    }

    #[test]
    fn markers_at_a_link() {
        let rules = matcher();
        let p = rules.phrases();
        assert_eq!(p.link_marker("Zelt X*", ""), Some('*'));
        assert_eq!(p.link_marker("Zelt X", "* im Test"), Some('*'));
        assert_eq!(p.link_marker("Zelt X", " im Test"), None);
        assert_eq!(
            p.markers_in("Mit * markierte Links sind Affiliate-Links"),
            ['*']
        );
    }

    #[test]
    fn pattern_errors_are_reported() {
        let sets: HashMap<&str, usize> = [("a", 5)].into_iter().collect();
        assert!(parse_pattern("a ~x a", &sets).is_err());
        assert!(parse_pattern("a ~2 b", &sets).unwrap_err().contains("`b`"));
        assert!(parse_pattern("~2 a", &sets).is_err());
        assert_eq!(
            parse_pattern("a ~2 a", &sets).unwrap(),
            (vec![vec![5], vec![5]], vec![2])
        );
    }
}
