//! Names in the text: the site's own names (learned from the page and the config), domains, and
//! proper names (capitalized words that no class of any language knows).

use super::Hit;
use super::tokens::Tokens;
use super::{NAME_SET, NAME_WORDS, PhraseMatcher, SITE_NAME_SET};

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

impl PhraseMatcher {
    /// Proper names: runs of capitalized words that no class knows, and site names.
    pub(super) fn name_hits(&self, tokens: &Tokens, list: &mut Vec<Hit>) {
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

/// Site names in the text: runs of words whose letters, joined, spell a name.
pub(super) fn site_name_hits(tokens: &Tokens, names: &SiteNames, out: &mut Vec<Hit>) {
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

#[cfg(test)]
mod tests {
    use super::super::testing::matcher;
    use super::super::tokens::tokenize;
    use super::*;
    use crate::rules::Strength;

    #[test]
    fn domains_are_names_with_dots_and_hyphens() {
        let t = tokenize("Vareni-Snadno.cz and trailnotes.net, not Affiliate-Links or e.g. this");
        assert_eq!(domain_name(&t, 0), Some(3));
        assert_eq!(domain_name(&t, 1), None, "inside the joined name");
        assert_eq!(domain_name(&t, 4), Some(6));
        assert_eq!(domain_name(&t, 7), None, "a hyphenated word without a dot");
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
}
