//! Compiling the `[[language]]` entries and the wording of `[[required_statement]]` entries into
//! a [`PhraseMatcher`]: term lists, statement forms and their patterns, labels and markers.

use std::collections::HashMap;

use super::super::schema::{LanguageRule, RequiredStatementRule};
use super::find::stem_key;
use super::tokens::{label_key, tokenize};
use super::{
    Lang, NAME_SET, Part, PhraseMatcher, SITE_NAME_SET, STEM_KEY, Shape, Statement, Term, Word,
};

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

#[cfg(test)]
mod tests {
    use super::*;

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
