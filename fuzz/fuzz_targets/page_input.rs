//! How the page fuzz target turns bytes into a document; shared with `tests/fuzz_corpus.rs`,
//! which replays the corpus the same way.

use affcheck::Document;

/// The content types the first input byte picks from.
const CONTENT_TYPES: [Option<&str>; 5] = [
    None,
    Some("text/html"),
    Some("text/html; charset=windows-1252"),
    Some("text/html; charset=utf-16le"),
    Some("text/html; charset=shift_jis"),
];

/// The document for one fuzz input: the first byte picks the content type, the rest is the body.
pub fn document(data: &[u8]) -> Option<Document> {
    let (&selector, body) = data.split_first()?;
    Some(Document {
        display: "https://site.example/post/".into(),
        base: url::Url::parse("https://site.example/post/").ok(),
        bytes: body.to_vec(),
        content_type: CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()]
            .map(str::to_string),
    })
}
