//! Splitting text into words, sentences and clauses, and the lower-cased comparison keys of words
//! and labels.

use std::ops::Range;

/// A word of the text being read.
#[derive(Debug)]
pub(super) struct Token {
    /// Byte offsets of the word in the text (a block's text is far below 4 GiB: segment offsets
    /// are 32-bit too).
    pub(super) start: u32,
    pub(super) end: u32,
    // 32-bit fields keep a token at 28 bytes: a long block has one per word.
    pub(super) sentence: u32,
    pub(super) clause: u32,
    /// Inside parentheses or brackets.
    pub(super) paren: bool,
    /// The word has an upper-case letter (a possible name).
    pub(super) upper: bool,
    /// The character right after the word when it is `.` or `-` (`site.com`, `trail-notes`).
    pub(super) joint_after: u8,
    /// The lower-cased word, as a range of [`Tokens::lower`].
    pub(super) lower: Range<u32>,
}

/// The words of a text; lower-cased forms share one buffer, so tokenizing allocates twice, not per
/// word.
#[derive(Debug, Default)]
pub(super) struct Tokens {
    pub(super) list: Vec<Token>,
    pub(super) lower: String,
    /// Per sentence: whether it ends with a question mark.
    pub(super) questions: Vec<bool>,
    /// Per sentence: its tokens, `first..last + 1` (empty for a sentence without words).
    pub(super) spans: Vec<Range<u32>>,
}

impl Tokens {
    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn lower(&self, i: usize) -> &str {
        let r = &self.list[i].lower;
        &self.lower[r.start as usize..r.end as usize]
    }

    /// The tokens of sentence `s`, when it has any.
    pub(super) fn sentence(&self, s: u32) -> Option<Range<usize>> {
        self.spans
            .get(s as usize)
            .filter(|r| r.start < r.end)
            .map(|r| r.start as usize..r.end as usize)
    }
}

impl std::ops::Index<usize> for Tokens {
    type Output = Token;
    fn index(&self, i: usize) -> &Token {
        &self.list[i]
    }
}

/// Byte offsets where the words of `text` start.
pub(super) fn word_starts(text: &str) -> Vec<usize> {
    let t = tokenize(text);
    t.list.iter().map(|w| w.start as usize).collect()
}

/// Label comparison key: lower-cased words joined by single spaces.
///
/// The same words as [`tokenize`] finds, built in one pass without its bookkeeping (this runs on
/// every short block and every link text).
pub(super) fn label_key(text: &str) -> String {
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
pub(super) fn tokenize(text: &str) -> Tokens {
    let mut tokens = Tokens {
        list: Vec::with_capacity(token_capacity(text)),
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
    let sentences = tokens.list.last().map_or(0, |t| t.sentence as usize + 1);
    tokens
        .questions
        .resize(sentences.max(tokens.questions.len()), false);
    tokens.spans = vec![0..0; sentences];
    for (i, t) in tokens.list.iter().enumerate() {
        let span = &mut tokens.spans[t.sentence as usize];
        let i = i as u32;
        if span.start == span.end {
            *span = i..i + 1;
        } else {
            span.end = i + 1;
        }
    }
    tokens
}

/// Room for the tokens of `text`: a guess for short texts, the exact count for long ones, where
/// growing by doubling would briefly hold up to three times the list (a block of one-letter lines
/// has a token per two bytes).
fn token_capacity(text: &str) -> usize {
    if text.len() < 64 * 1024 {
        return text.len() / 6 + 1;
    }
    let mut count = 0;
    let mut in_word = false;
    for c in text.chars() {
        if is_word_char(c) {
            count += usize::from(!in_word);
            in_word = true;
        } else {
            in_word = false;
            count += usize::from(unspaced(c) || symbol_word(c));
        }
    }
    count
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
        start: start as u32,
        end: end as u32,
        // A block of 4 billion sentences or a 4 GiB word buffer is beyond any page size cap.
        sentence: u32::try_from(ctx.sentence).unwrap_or(u32::MAX),
        clause: u32::try_from(ctx.clause).unwrap_or(u32::MAX),
        paren: ctx.paren,
        upper,
        joint_after: match text.as_bytes().get(end) {
            Some(&b) if b == b'.' || b == b'-' => b,
            _ => 0,
        },
        lower: u32::try_from(from).unwrap_or(u32::MAX)..u32::try_from(to).unwrap_or(u32::MAX),
    });
}

/// The byte range of sentence number `sentence`, trimmed of separators.
pub(super) fn sentence_range(text: &str, tokens: &Tokens, sentence: u32) -> Range<usize> {
    let list = &tokens.list;
    let span = tokens.sentence(sentence).expect("sentence has a token");
    let (first, last) = (span.start, span.end - 1);
    let mut end = list[last].end as usize;
    // Keep the sentence's closing punctuation.
    if let Some(c) = text[end..].chars().next()
        && matches!(c, '.' | '!' | '?' | '。' | '！' | '।')
    {
        end += c.len_utf8();
    }
    list[first].start as usize..end
}

#[cfg(test)]
mod tests {
    use super::super::testing::matcher;
    use super::*;

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
    fn sentence_range_gives_an_excerpt() {
        let rules = matcher();
        let text = "Great boots. We may earn a commission. Buy now";
        let m = &rules.phrases().find_statements(text)[0];
        assert_eq!(&text[m.sentence.clone()], "We may earn a commission.");
    }
}
