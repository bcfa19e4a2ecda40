//! What a statement form needs beyond its parts: no blocking term between them, no `unless` term
//! in the sentence, no question word right before it, its requirements nearby (such as a tie to
//! this page when someone else is the earner), no negation, and no question unless it still
//! states something.

use super::Hit;
use super::find::Hits;
use super::tokens::Tokens;
use super::{Lang, Miss, PhraseMatcher, Statement};

/// How many words before a statement a negation still applies to (within its clause).
const NEGATION_REACH: usize = 3;
/// How many words after a negation a `cost` term makes it harmless ("no extra cost").
const COST_REACH: usize = 3;

impl PhraseMatcher {
    /// Whether a question sentence still states something: it opens with an invitation ("Want to
    /// support the blog?"), the next sentence answers it with yes ("… ? Yes — a small
    /// commission"), or it is a statement with a tag question ("We earn a commission, right?").
    pub(super) fn question_is_statement(
        &self,
        lang: &Lang,
        sentence: u32,
        tokens: &Tokens,
        hits: &Hits,
    ) -> bool {
        let opens = |set: Option<usize>, s: u32| {
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

    /// Checks the conditions beyond the parts themselves; returns the span when they hold, or
    /// which condition failed.
    pub(super) fn holds(
        &self,
        st: &Statement,
        tokens: &Tokens,
        hits: &Hits,
        chosen: &[Hit],
    ) -> Result<(usize, usize), Miss> {
        let (Some(start), Some(end)) = (
            chosen.iter().map(|h| h.start).min(),
            chosen.iter().map(|h| h.end).max(),
        ) else {
            return Err(Miss::Blocked);
        };
        let sentence = tokens[start].sentence;
        let Some(sent) = tokens.sentence(sentence) else {
            return Err(Miss::Blocked);
        };
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
                // A form may list the negation words among its blockers ("we do *not* earn").
                return Err(if set == lang.negation {
                    Miss::Negated
                } else {
                    Miss::Blocked
                });
            }
        }
        for &set in &st.unless {
            if !hits.starting(set, sent.clone()).is_empty() {
                return Err(Miss::Unless);
            }
        }
        if let Some(wh) = lang.wh
            && hits.starting(wh, sent.start..start).iter().any(|w| {
                w.end <= start
                    && start - w.end <= 1
                    && tokens[w.start].clause == tokens[start].clause
            })
        {
            return Err(Miss::QuestionWord);
        }
        // A neighbouring sentence that negates ("We do not use affiliate links.") lends nothing.
        let negating = |s: u32| {
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
                return Err(Miss::Requirement);
            }
        }
        if self.negated(lang, start, end, tokens, hits) {
            return Err(Miss::Negated);
        }
        Ok((start, end))
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

#[cfg(test)]
mod tests {
    use super::super::testing::finds;
    use crate::rules::Strength;

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
}

#[cfg(test)]
mod near_miss_tests {
    use super::super::testing::matcher;
    use crate::rules::{Miss, SiteNames};

    fn misses(text: &str) -> Vec<(String, Miss)> {
        let rules = matcher();
        rules
            .phrases()
            .near_misses(text, &SiteNames::default())
            .into_iter()
            .map(|m| (text[m.sentence].to_string(), m.miss))
            .collect()
    }

    #[test]
    fn near_misses_say_why_a_sentence_does_not_disclose() {
        assert_eq!(
            misses("Our reviews are independent. We do not get paid a commission for these links."),
            [(
                "We do not get paid a commission for these links.".to_string(),
                Miss::Negated
            )]
        );
        assert_eq!(
            misses("Do we make money when you buy through our links?"),
            [(
                "Do we make money when you buy through our links?".to_string(),
                Miss::Question
            )]
        );
    }

    #[test]
    fn a_sentence_that_discloses_is_no_near_miss() {
        assert!(misses("We earn a commission when you buy through links on this page.").is_empty());
        assert!(misses("The weather was fine and the tent held up.").is_empty());
        // A negated clause next to one that states leaves no near miss in that sentence.
        assert!(
            misses("We never accept payment for reviews, but we earn a commission on purchases made through our links.")
                .is_empty()
        );
    }
}
