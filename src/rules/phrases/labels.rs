//! Labels: short disclosure wording such as "Anzeige" or "(paid link)" as a whole block, at a link
//! or after it, legend markers ("* affiliate link"), and link texts that name a disclosure page.

use super::tokens::{label_key, word_starts};
use super::{PhraseMatcher, SiteNames, StatementMatch};

impl PhraseMatcher {
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

    /// A statement written right after a link, in brackets or after a dash (`[Mug] (we earn a
    /// commission if you buy)`, `[Mug] — we earn a commission on purchases through this link`):
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

#[cfg(test)]
mod tests {
    use super::super::testing::matcher;

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
}
