//! Disclosure wording: finds statements such as "we may earn a commission" in a block of page text.
//!
//! Text is split into word tokens (letters and digits; everything else separates words, so
//! `Affiliate-Links` is two words) and sentences (`.`, `!`, `?`, `;`, `:` before white space, line
//! breaks). A statement pattern is a sequence of term lists with the most words allowed between
//! consecutive parts, and must fall inside one sentence. Matching is case-insensitive and works on the
//! original text, so the byte offsets it reports can be used to cut excerpts.

use std::collections::{HashMap, HashSet};

use rustc_hash::{FxHashMap, FxHashSet};
use std::ops::Range;

use super::schema::{LanguageRule, Strength};

/// Stems (`commission*`) are indexed by this many leading characters; shorter stems are rejected.
const STEM_KEY: usize = 3;
/// How many words before a statement a negation still applies to.
const NEGATION_REACH: usize = 3;

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
    set: usize,
}

#[derive(Debug)]
struct Statement {
    lang: usize,
    id: String,
    strength: Strength,
    /// (term set, most words allowed before the next part).
    parts: Vec<(usize, usize)>,
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
    /// Whether the sentence is (a form of) the Amazon Associates statement.
    pub amazon: bool,
    /// `language/statement` id of the pattern that matched.
    pub rule: String,
}

/// A word of the text being read.
#[derive(Debug)]
struct Token {
    start: usize,
    end: usize,
    sentence: usize,
    /// The lower-cased word, as a range of [`Tokens::lower`].
    lower: Range<usize>,
}

/// The words of a text; lower-cased forms share one buffer, so tokenizing allocates twice, not per
/// word.
#[derive(Debug, Default)]
struct Tokens {
    list: Vec<Token>,
    lower: String,
}

impl Tokens {
    fn len(&self) -> usize {
        self.list.len()
    }

    fn lower(&self, i: usize) -> &str {
        &self.lower[self.list[i].lower.clone()]
    }
}

impl std::ops::Index<usize> for Tokens {
    type Output = Token;
    fn index(&self, i: usize) -> &Token {
        &self.list[i]
    }
}

/// A term matched at tokens `start..end`.
#[derive(Debug, Clone, Copy)]
struct Hit {
    set: usize,
    start: usize,
    end: usize,
}

/// Compiled disclosure wording for all languages.
#[derive(Debug, Default)]
pub struct PhraseMatcher {
    langs: Vec<String>,
    terms: Vec<Term>,
    exact: FxHashMap<String, Vec<usize>>,
    by_stem: FxHashMap<String, Vec<usize>>,
    statements: Vec<Statement>,
    /// Per language: the term sets holding negations and Amazon markers.
    negation_set: Vec<usize>,
    amazon_set: Vec<usize>,
    set_count: usize,
    labels: FxHashSet<String>,
    link_labels: FxHashSet<String>,
    /// Texts longer than this many bytes cannot be a label (a cheap gate before tokenizing).
    label_limit: usize,
}

impl PhraseMatcher {
    /// Compiles the `[[language]]` entries; an error names the language id and the problem.
    pub fn new(languages: &[LanguageRule]) -> Result<Self, (String, String)> {
        let mut m = PhraseMatcher::default();
        for (lang, rule) in languages.iter().enumerate() {
            let err = |msg: String| (rule.id.clone(), msg);
            m.langs.push(rule.id.clone());
            let mut sets: HashMap<&str, usize> = HashMap::new();
            for (name, terms) in &rule.terms {
                let set = m.new_set();
                sets.insert(name.as_str(), set);
                for term in terms {
                    m.add_term(term, set)
                        .map_err(|e| err(format!("term list `{name}`: {e}")))?;
                }
            }
            let neg = m.new_set();
            for term in &rule.negations {
                m.add_term(term, neg)
                    .map_err(|e| err(format!("negations: {e}")))?;
            }
            m.negation_set.push(neg);
            let amazon = m.new_set();
            for term in &rule.amazon_markers {
                m.add_term(term, amazon)
                    .map_err(|e| err(format!("amazon_markers: {e}")))?;
            }
            m.amazon_set.push(amazon);
            for st in &rule.statement {
                let parts = parse_pattern(&st.pattern, &sets)
                    .map_err(|e| err(format!("statement `{}`: {e}", st.id)))?;
                m.statements.push(Statement {
                    lang,
                    id: st.id.clone(),
                    strength: st.strength,
                    parts,
                });
            }
            m.labels.extend(rule.labels.iter().map(|l| label_key(l)));
            m.link_labels
                .extend(rule.link_labels.iter().map(|l| label_key(l)));
        }
        let longest = m
            .labels
            .iter()
            .chain(&m.link_labels)
            .map(String::len)
            .max()
            .unwrap_or(0);
        // Raw text may carry extra spaces and punctuation, and lower-casing can change byte length.
        m.label_limit = longest * 2 + 16;
        Ok(m)
    }

    fn new_set(&mut self) -> usize {
        self.set_count += 1;
        self.set_count - 1
    }

    fn add_term(&mut self, term: &str, set: usize) -> Result<(), String> {
        let tokens = tokenize(term);
        let mut words: Vec<Word> = (0..tokens.len())
            .map(|i| Word {
                text: tokens.lower(i).to_string(),
                stem: false,
            })
            .collect();
        if words.is_empty() {
            return Err(format!("`{term}` has no words"));
        }
        if term.trim_end().ends_with('*') {
            words.last_mut().expect("non-empty").stem = true;
        }
        if term.trim_end().trim_end_matches('*').contains('*') {
            return Err(format!("`{term}`: `*` may only end a term"));
        }
        let first = &words[0];
        let id = self.terms.len();
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
        self.terms.push(Term { words, set });
        Ok(())
    }

    /// Every disclosure statement in `text`, in text order, at most one per sentence (the first).
    pub fn find_statements(&self, text: &str) -> Vec<StatementMatch> {
        let tokens = tokenize(text);
        let mut hits: Vec<Hit> = Vec::new();
        for i in 0..tokens.len() {
            let lower = tokens.lower(i);
            let exact = self.exact.get(lower).into_iter().flatten();
            let stems = self.by_stem.get(stem_key(lower)).into_iter().flatten();
            for &t in exact.chain(stems) {
                let term = &self.terms[t];
                if let Some(end) = match_term(term, &tokens, i) {
                    hits.push(Hit {
                        set: term.set,
                        start: i,
                        end,
                    });
                }
            }
        }
        if hits.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<(usize, usize, &Statement)> = Vec::new();
        for st in &self.statements {
            let first = st.parts[0].0;
            // One match per statement and sentence: later sentences may hold statements too
            // ("We earn a commission. As an Amazon Associate I earn from qualifying purchases.").
            let mut matched_sentence = None;
            for h in hits.iter().filter(|h| h.set == first) {
                if matched_sentence == Some(tokens[h.start].sentence) {
                    continue;
                }
                if let Some(last_end) = match_parts(
                    &st.parts,
                    1,
                    h.end,
                    tokens[h.start].sentence,
                    &tokens,
                    &hits,
                ) && !self.negated(st.lang, h.start, last_end, &tokens, &hits)
                {
                    found.push((h.start, last_end, st));
                    matched_sentence = Some(tokens[h.start].sentence);
                }
            }
        }
        found.sort_by_key(|(start, _, st)| (*start, std::cmp::Reverse(st.strength)));
        let mut out: Vec<StatementMatch> = Vec::new();
        let mut seen_sentences = HashSet::new();
        for (start, end, st) in found {
            let sentence = tokens[start].sentence;
            if !seen_sentences.insert(sentence) {
                continue;
            }
            let amazon = hits
                .iter()
                .any(|h| self.amazon_set.contains(&h.set) && tokens[h.start].sentence == sentence);
            out.push(StatementMatch {
                span: tokens[start].start..tokens[end - 1].end,
                sentence: sentence_range(text, &tokens, sentence),
                strength: st.strength,
                amazon,
                rule: format!("{}/{}", self.langs[st.lang], st.id),
            });
        }
        out
    }

    /// Whether a negation of the statement's language stands just before or inside it.
    fn negated(
        &self,
        lang: usize,
        start: usize,
        end: usize,
        tokens: &Tokens,
        hits: &[Hit],
    ) -> bool {
        let sentence = tokens[start].sentence;
        let from = start.saturating_sub(NEGATION_REACH);
        let set = self.negation_set[lang];
        hits.iter().any(|h| {
            h.set == set && h.start >= from && h.start < end && tokens[h.start].sentence == sentence
        })
    }

    /// Whether `text` (a whole block) is a stand-alone disclosure label ("Anzeige", "Sponsored:").
    pub fn is_label(&self, text: &str) -> bool {
        let text = text.trim();
        if text.len() <= self.label_limit && self.labels.contains(&label_key(text)) {
            return true;
        }
        let Some(cut) = text.find([':', '|']) else {
            return false;
        };
        cut <= self.label_limit && self.labels.contains(&label_key(&text[..cut]))
    }

    /// Whether a link's whole text only names a disclosure found elsewhere ("Affiliate disclosure").
    pub fn is_link_label(&self, text: &str) -> bool {
        let text = text.trim();
        text.len() <= self.label_limit && self.link_labels.contains(&label_key(text))
    }
}

/// Label comparison key: lower-cased words joined by single spaces.
fn label_key(text: &str) -> String {
    let tokens = tokenize(text);
    (0..tokens.len())
        .map(|i| tokens.lower(i))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first [`STEM_KEY`] characters of a word (all of a shorter one).
fn stem_key(word: &str) -> &str {
    match word.char_indices().nth(STEM_KEY) {
        Some((at, _)) => &word[..at],
        None => word,
    }
}

/// Matches all words of `term` from token `i`, within one sentence; returns the end token (exclusive).
fn match_term(term: &Term, tokens: &Tokens, i: usize) -> Option<usize> {
    let sentence = tokens[i].sentence;
    for (k, word) in term.words.iter().enumerate() {
        if i + k >= tokens.len()
            || tokens[i + k].sentence != sentence
            || !word.matches(tokens.lower(i + k))
        {
            return None;
        }
    }
    Some(i + term.words.len())
}

/// Matches `parts[k..]` starting after token `prev_end`; returns the end of the last part.
fn match_parts(
    parts: &[(usize, usize)],
    k: usize,
    prev_end: usize,
    sentence: usize,
    tokens: &Tokens,
    hits: &[Hit],
) -> Option<usize> {
    if k == parts.len() {
        return Some(prev_end);
    }
    let (set, gap) = (parts[k].0, parts[k - 1].1);
    hits.iter()
        .filter(|h| {
            h.set == set
                && h.start >= prev_end
                && h.start - prev_end <= gap
                && tokens[h.start].sentence == sentence
        })
        .find_map(|h| match_parts(parts, k + 1, h.end, sentence, tokens, hits))
}

/// Parses `self ~4 earn ~6 money` into (set, gap) parts; the last gap is unused.
fn parse_pattern(
    pattern: &str,
    sets: &HashMap<&str, usize>,
) -> Result<Vec<(usize, usize)>, String> {
    let mut parts: Vec<(usize, usize)> = Vec::new();
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
            parts.last_mut().expect("a name came first").1 = gap;
            expect_name = true;
        } else {
            let set = sets.get(piece).ok_or_else(|| {
                format!("pattern `{pattern}` names `{piece}`, which is not in `terms`")
            })?;
            if !expect_name {
                parts.last_mut().expect("a name came first").1 = 0;
            }
            parts.push((*set, 0));
            expect_name = false;
        }
    }
    if parts.is_empty() {
        return Err("empty pattern".into());
    }
    Ok(parts)
}

/// Splits text into lower-cased word tokens with byte offsets and sentence numbers.
fn tokenize(text: &str) -> Tokens {
    let mut tokens = Tokens {
        list: Vec::new(),
        lower: String::with_capacity(text.len()),
    };
    let mut sentence = 0;
    let mut start: Option<usize> = None;
    let mut chars = text.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else {
            if let Some(s) = start.take() {
                push_token(&mut tokens, text, s, i, sentence);
            }
            let next = chars.peek().map(|&(_, n)| n);
            let ends = match c {
                '\n' | '|' | '•' => true,
                '.' | '!' | '?' | ';' | ':' | '…' => {
                    next.is_none_or(char::is_whitespace)
                        && !prev
                            .is_some_and(|p| p.is_numeric() && next.is_some_and(char::is_numeric))
                }
                _ => false,
            };
            if ends {
                sentence += 1;
            }
        }
        prev = Some(c);
    }
    if let Some(s) = start {
        push_token(&mut tokens, text, s, text.len(), sentence);
    }
    tokens
}

fn push_token(tokens: &mut Tokens, text: &str, start: usize, end: usize, sentence: usize) {
    let word = &text[start..end];
    let from = tokens.lower.len();
    // "don't", "isn't": the `t` after an apostrophe is the negation "not".
    if (word == "t" || word == "T") && text[..start].ends_with(['\'', '’']) {
        tokens.lower.push_str("not");
    } else if word.is_ascii() {
        tokens
            .lower
            .extend(word.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        tokens
            .lower
            .extend(word.chars().flat_map(char::to_lowercase));
    }
    let to = tokens.lower.len();
    tokens.list.push(Token {
        start,
        end,
        sentence,
        lower: from..to,
    });
}

/// The byte range of sentence number `sentence`, trimmed of separators.
fn sentence_range(text: &str, tokens: &Tokens, sentence: usize) -> Range<usize> {
    let list = &tokens.list;
    let first = list
        .iter()
        .position(|t| t.sentence == sentence)
        .expect("sentence has a token");
    let last = list
        .iter()
        .rposition(|t| t.sentence == sentence)
        .expect("sentence has a token");
    let mut end = list[last].end;
    // Keep the sentence's closing punctuation.
    if let Some(c) = text[end..].chars().next()
        && matches!(c, '.' | '!' | '?')
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
    fn tokens_split_words_and_sentences() {
        let t = tokenize("Werbung: Dieser Artikel enthält Affiliate-Links. Version 2.5 ist gut");
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
    fn statement_does_not_span_sentences() {
        assert_eq!(finds("We tested it. Commission rates vary."), None);
    }

    #[test]
    fn amazon_statement_is_flagged() {
        let rules = matcher();
        let m = rules
            .phrases()
            .find_statements("As an Amazon Associate I earn from qualifying purchases.");
        assert!(m[0].amazon);
        let m = rules.phrases().find_statements("We may earn a commission.");
        assert!(!m[0].amazon);
    }

    #[test]
    fn amazon_statement_after_another_statement_in_the_same_block_is_found() {
        let rules = matcher();
        let m = rules.phrases().find_statements(
            "We earn a commission from links on this page. As an Amazon Associate I earn from qualifying purchases.",
        );
        assert_eq!(m.len(), 2);
        assert!(!m[0].amazon);
        assert!(m[1].amazon);
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
        assert!(!p.is_label("Werbung ist überall"));
        assert!(p.is_link_label("Affiliate disclosure"));
        assert!(p.is_link_label("  Affiliate   policy "));
        assert!(!p.is_link_label("Read our affiliate disclosure to learn more about how we earn"));
    }

    #[test]
    fn pattern_errors_are_reported() {
        let sets: HashMap<&str, usize> = [("a", 0)].into_iter().collect();
        assert!(parse_pattern("a ~x a", &sets).is_err());
        assert!(parse_pattern("a ~2 b", &sets).unwrap_err().contains("`b`"));
        assert!(parse_pattern("~2 a", &sets).is_err());
        assert_eq!(
            parse_pattern("a ~2 a", &sets).unwrap(),
            vec![(0, 2), (0, 0)]
        );
    }
}
