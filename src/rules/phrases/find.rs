//! Finding statements in a text: terms looked up per word (with stems and clitic prefixes), then
//! each statement form whose parts all occur is matched within one sentence; short texts are
//! answered from a per-thread cache.

use rustc_hash::FxHashMap;
use std::ops::Range;

use super::Hit;
use super::names::site_name_hits;
use super::tokens::{Tokens, sentence_range, tokenize};
use super::{
    Miss, NAME_SET, NearMiss, Part, PhraseMatcher, SITE_NAME_SET, STEM_KEY, Shape, SiteNames,
    Statement, StatementMatch, Strength, Term,
};

/// Blocks up to this many bytes are looked up in, and kept in, the per-thread result cache.
const CACHE_TEXT_MAX: usize = 400;
/// Results kept per thread before the cache starts afresh.
const CACHE_ENTRIES: usize = 4096;

thread_local! {
    /// Recent results by (matcher, text, site names) hash, with the text to rule out collisions.
    static RESULTS: std::cell::RefCell<FxHashMap<u64, (String, Vec<StatementMatch>)>> =
        std::cell::RefCell::new(FxHashMap::default());
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
pub(super) struct Hits {
    pub(super) list: Vec<Hit>,
}

impl Hits {
    pub(super) fn of(&self, set: usize) -> &[Hit] {
        let from = self.list.partition_point(|h| h.set < set);
        let to = self.list.partition_point(|h| h.set <= set);
        &self.list[from..to]
    }

    /// The hits of `set` that start at a token in `range`: checks look only where they can
    /// succeed, so a long block costs linear time, not a scan of all its hits per candidate.
    pub(super) fn starting(&self, set: usize, range: Range<usize>) -> &[Hit] {
        let all = self.of(set);
        let from = all.partition_point(|h| h.start < range.start);
        let to = all.partition_point(|h| h.start < range.end);
        &all[from..to.max(from)]
    }
}

impl PhraseMatcher {
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

    /// The sentences of `text` that have every part of a disclosure form but do not count as a
    /// disclosure, and why (negated, a question, someone else earning with no tie to the page …),
    /// in text order, one per sentence; sentences that do make a statement are left out.
    pub fn near_misses(&self, text: &str, names: &SiteNames) -> Vec<NearMiss> {
        let mut misses = Vec::new();
        self.find(text, names, Some(&mut misses));
        misses
    }

    fn find_uncached(&self, text: &str, names: &SiteNames) -> Vec<StatementMatch> {
        self.find(text, names, None)
    }

    /// Finds the statements of `text`; with `misses`, also records the near misses.
    fn find(
        &self,
        text: &str,
        names: &SiteNames,
        misses: Option<&mut Vec<NearMiss>>,
    ) -> Vec<StatementMatch> {
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
        let mut best: FxHashMap<u32, (Strength, usize, usize, &Statement)> = FxHashMap::default();
        // Per sentence, the first form that had all its parts there but failed a condition.
        let mut failed: Vec<(u32, Miss, &Statement)> = Vec::new();
        for st in candidates.iter().map(|&i| &self.statements[i as usize]) {
            if !present.ready(st, false) {
                continue;
            }
            let record = misses.is_some().then_some(&mut failed);
            for (start, end) in self.matches(st, &tokens, &hits, record) {
                let sentence = tokens[start].sentence;
                let better = best
                    .get(&sentence)
                    .is_none_or(|(strength, _, _, _)| st.strength > *strength);
                if better {
                    best.insert(sentence, (st.strength, start, end, st));
                }
            }
        }
        if let Some(out) = misses {
            // Per sentence, the most telling reason first.
            failed
                .sort_by_key(|(sentence, miss, _)| (*sentence, std::cmp::Reverse(miss.telling())));
            failed.dedup_by_key(|(sentence, ..)| *sentence);
            out.extend(
                failed
                    .into_iter()
                    .filter(|(sentence, ..)| !best.contains_key(sentence))
                    .map(|(sentence, miss, st)| NearMiss {
                        sentence: sentence_range(text, &tokens, sentence),
                        rule: format!("{}/{}", self.langs[st.lang].id, st.id),
                        miss,
                    }),
            );
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
                    span: tokens[start].start as usize..tokens[end - 1].end as usize,
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
}

impl PhraseMatcher {
    /// The (start, end) token spans where `st` matches and holds; with `failed`, records the
    /// sentences where all its parts occur but a condition does not hold.
    fn matches<'s>(
        &self,
        st: &'s Statement,
        tokens: &Tokens,
        hits: &Hits,
        mut failed: Option<&mut Vec<(u32, Miss, &'s Statement)>>,
    ) -> Vec<(usize, usize)> {
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
            if done_sentence == Some(sentence) {
                continue;
            }
            if tokens.questions[sentence as usize]
                && !self.question_is_statement(&self.langs[st.lang], sentence, tokens, hits)
            {
                if let Some(failed) = failed.as_deref_mut() {
                    failed.push((sentence, Miss::Question, st));
                }
                continue;
            }
            let mut miss = None;
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
                    self.extend(st, parts, &fits, tokens, hits, &mut chosen, &mut miss)
                }
                // Any order, no overlap, all inside `within` words.
                Shape::AnyOrder { parts, within } => {
                    let fits = |chosen: &[Hit], h: &Hit| {
                        let lo = chosen.iter().map(|c| c.start).min().expect("non-empty");
                        let hi = chosen.iter().map(|c| c.end).max().expect("non-empty");
                        !chosen.iter().any(|c| h.start < c.end && c.start < h.end)
                            && hi.max(h.end) - lo.min(h.start) <= *within
                    };
                    self.extend(st, parts, &fits, tokens, hits, &mut chosen, &mut miss)
                }
            };
            if let Some(span) = ok {
                out.push(span);
                done_sentence = Some(sentence);
            } else if let (Some(failed), Some(miss)) = (failed.as_deref_mut(), miss) {
                failed.push((sentence, miss, st));
            }
        }
        out
    }

    /// Chooses a hit for each part after those in `chosen`, in the first part's sentence, where
    /// `fits` accepts it; returns the span of the first choice for which the form holds, and
    /// otherwise leaves in `miss` the most telling reason a full choice did not hold.
    #[allow(clippy::too_many_arguments)]
    fn extend(
        &self,
        st: &Statement,
        parts: &[Part],
        fits: &dyn Fn(&[Hit], &Hit) -> bool,
        tokens: &Tokens,
        hits: &Hits,
        chosen: &mut Vec<Hit>,
        miss: &mut Option<Miss>,
    ) -> Option<(usize, usize)> {
        let k = chosen.len();
        if k == parts.len() {
            return self
                .holds(st, tokens, hits, chosen)
                .map_err(|m| {
                    if miss.is_none_or(|old| m.telling() > old.telling()) {
                        *miss = Some(m);
                    }
                })
                .ok();
        }
        let sentence = tokens.sentence(tokens[chosen[0].start].sentence)?;
        for &set in &parts[k] {
            for h in hits.starting(set, sentence.clone()) {
                if !fits(chosen, h) {
                    continue;
                }
                chosen.push(*h);
                if let Some(span) = self.extend(st, parts, fits, tokens, hits, chosen, miss) {
                    return Some(span);
                }
                chosen.pop();
            }
        }
        None
    }
}

/// The first [`STEM_KEY`] characters of a word (all of a shorter one).
pub(super) fn stem_key(word: &str) -> &str {
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

#[cfg(test)]
mod tests {
    use super::super::testing::{finds, matcher};
    use super::*;

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
}
