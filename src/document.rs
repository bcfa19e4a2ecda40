//! The *document* stage: a page's address and raw bytes, as read from a file or fetched from a server,
//! and their decoding into text.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use url::Url;

/// How far into a document the `<meta charset>` pre-scan and the binary sniff look (the HTML
/// standard's pre-scan reads 1024 bytes).
const SNIFF_BYTES: usize = 1024;

/// A page as read: where it came from and its bytes.
#[derive(Debug, Clone)]
pub struct Document {
    /// What the report shows as `page_url`: the public URL, or the file path as given.
    pub display: String,
    /// The URL relative links resolve against (an `http(s)` URL, or a `file:` URL for local files).
    pub base: Option<Url>,
    /// The raw bytes.
    pub bytes: Vec<u8>,
    /// The HTTP `Content-Type` header, when the document was fetched.
    pub content_type: Option<String>,
}

/// Why a document is not audited. Not an error: the run goes on and says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    /// The server said it is not HTML.
    #[error("not HTML (content type {0})")]
    NotHtml(String),
    /// The bytes look binary (NUL bytes near the start).
    #[error("binary content, not HTML")]
    Binary,
    /// The markup multiplies elements far beyond its size (see the README's Safety section).
    #[error(
        "markup that builds more than {0} elements (formatting tags re-opened over and over; no real page does this)"
    )]
    TooManyElements(usize),
}

impl Skip {
    /// The summary's breakdown key for this reason.
    pub fn key(&self) -> &'static str {
        match self {
            Skip::NotHtml(_) => "not HTML",
            Skip::Binary => "binary",
            Skip::TooManyElements(_) => "too many elements",
        }
    }
}

/// A decoded document.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The text.
    pub text: Cow<'a, str>,
    /// The encoding used (`UTF-8`, `windows-1252`, …).
    pub encoding: &'static str,
    /// Whether some bytes were not valid in that encoding and were replaced.
    pub had_errors: bool,
}

impl Document {
    /// A document holding `html` as the page at `url` (relative links resolve against it). For
    /// library callers and tests that have the markup in hand.
    ///
    /// # Panics
    /// When `url` is not an absolute URL.
    pub fn from_html(url: &str, html: impl Into<String>) -> Document {
        let base = Url::parse(url).expect("Document::from_html needs an absolute URL");
        Document {
            display: base.to_string(),
            base: Some(base),
            bytes: html.into().into_bytes(),
            content_type: None,
        }
    }

    /// The encoding the `Content-Type` charset names, if it names a known one.
    fn header_charset(&self) -> Option<&'static Encoding> {
        self.content_type
            .as_deref()
            .and_then(charset_param)
            .and_then(|label| Encoding::for_label(label.as_bytes()))
    }

    fn header_says_utf16(&self) -> bool {
        self.header_charset()
            .is_some_and(|e| e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE)
    }

    /// Whether this document should be parsed as HTML, and why not.
    pub fn check_html(&self) -> Result<(), Skip> {
        if let Some(ct) = &self.content_type {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if !mime.is_empty() && mime != "text/html" && mime != "application/xhtml+xml" {
                return Err(Skip::NotHtml(mime));
            }
        }
        let head = &self.bytes[..self.bytes.len().min(SNIFF_BYTES)];
        let utf16_bom = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
        // UTF-16 text is full of NUL bytes; a server that says the page is UTF-16 is believed.
        if !utf16_bom && !self.header_says_utf16() && head.contains(&0) {
            return Err(Skip::Binary);
        }
        Ok(())
    }

    /// Decodes the bytes: a byte-order mark wins, then the HTTP charset, then `<meta charset>` in the
    /// first 1024 bytes; with no declaration, UTF-8 when the bytes are valid UTF-8 and windows-1252
    /// (what browsers assume) otherwise. Never fails: invalid bytes become U+FFFD.
    pub fn decode(&self) -> Decoded<'_> {
        let encoding = match self.header_charset() {
            // The transport's word is taken, UTF-16 included (a byte-order mark still wins).
            Some(e) => e,
            None => match meta_charset(&self.bytes) {
                // The standard reads a UTF-16 declaration *inside* the page as UTF-8: a document
                // whose bytes spell out `<meta charset=utf-16>` is ASCII-compatible.
                Some(e) if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE => UTF_8,
                Some(e) => e,
                None if std::str::from_utf8(&self.bytes).is_ok() => UTF_8,
                None => WINDOWS_1252,
            },
        };
        let (text, used, had_errors) = encoding.decode(&self.bytes);
        Decoded {
            text,
            encoding: used.name(),
            had_errors,
        }
    }
}

/// The `charset` parameter of a `Content-Type` value.
fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']))
    })
}

/// A simplified version of the HTML standard's pre-scan: the first `charset=` inside a `<meta` tag
/// within the first 1024 bytes (covers `<meta charset=…>` and `http-equiv` forms).
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let lower: Vec<u8> = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = find(&lower[start..], b">").map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(cs) = find(tag, b"charset") {
            let rest = &tag[cs + b"charset".len()..];
            let rest = rest.trim_ascii_start();
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = rest.trim_ascii_start();
                let rest = rest
                    .strip_prefix(b"\"")
                    .or_else(|| rest.strip_prefix(b"'"))
                    .unwrap_or(rest);
                let label_end = rest
                    .iter()
                    .position(|b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                    .unwrap_or(rest.len());
                if let Some(e) = Encoding::for_label(&rest[..label_end]) {
                    return Some(e);
                }
            }
        }
        from = end;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(bytes: &[u8], content_type: Option<&str>) -> Document {
        Document {
            display: "t".into(),
            base: None,
            bytes: bytes.to_vec(),
            content_type: content_type.map(str::to_string),
        }
    }

    #[test]
    fn utf8_without_declaration() {
        let d = doc("<p>Provision für uns</p>".as_bytes(), None);
        assert_eq!(d.decode().encoding, "UTF-8");
        assert!(d.decode().text.contains("für"));
    }

    #[test]
    fn meta_charset_latin1() {
        let d = doc(
            b"<meta charset=\"iso-8859-1\"><p>Provision f\xfcr uns</p>",
            None,
        );
        let dec = d.decode();
        assert_eq!(dec.encoding, "windows-1252");
        assert!(dec.text.contains("für"), "{}", dec.text);
    }

    #[test]
    fn http_equiv_charset() {
        let d = doc(b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1250\"><p>zarabiam na zakupach \xb9</p>", None);
        assert_eq!(d.decode().encoding, "windows-1250");
        assert!(d.decode().text.contains('ą'));
    }

    #[test]
    fn http_header_beats_meta() {
        let d = doc(
            b"<meta charset=utf-8><p>f\xfcr</p>",
            Some("text/html; charset=ISO-8859-1"),
        );
        assert!(d.decode().text.contains("für"));
    }

    #[test]
    fn undeclared_invalid_utf8_falls_back_to_windows_1252() {
        let d = doc(b"<p>caf\xe9</p>", None);
        assert_eq!(d.decode().text, "<p>café</p>");
    }

    #[test]
    fn binary_and_non_html_are_skipped() {
        assert_eq!(
            doc(b"\x89PNG\r\n\x1a\n\0\0\0", None).check_html(),
            Err(Skip::Binary)
        );
        assert_eq!(
            doc(b"{}", Some("application/json")).check_html(),
            Err(Skip::NotHtml("application/json".into()))
        );
        assert!(
            doc(b"<p>x</p>", Some("text/html; charset=utf-8"))
                .check_html()
                .is_ok()
        );
        assert!(doc(b"<p>x</p>", None).check_html().is_ok());
    }

    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn utf16_without_bom_is_read_when_the_header_says_so() {
        let html = "<p>Wir erhalten eine Provision – Werbung</p>";
        let d = doc(&utf16le(html), Some("text/html; charset=UTF-16LE"));
        assert_eq!(d.check_html(), Ok(()));
        let decoded = d.decode();
        assert_eq!(decoded.text, html);
        assert_eq!(decoded.encoding, "UTF-16LE");
        // Without the header the NUL bytes say binary, as before.
        assert_eq!(doc(&utf16le(html), None).check_html(), Err(Skip::Binary));
    }

    #[test]
    fn utf16_named_inside_an_ascii_page_means_utf8() {
        let d = doc("<meta charset=\"utf-16\"><p>Café</p>".as_bytes(), None);
        assert_eq!(d.decode().encoding, "UTF-8");
    }
}
