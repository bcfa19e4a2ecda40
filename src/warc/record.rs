//! From a record to the [`Document`] to audit, or the reason it is not audited.

use url::Url;

use super::header::Headers;
use super::http::{HttpError, HttpResponse};
use super::reader::Record;
use crate::document::{Document, Skip};

/// Why a record is not audited. Not an error: the run counts it and goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAudited {
    /// Not a `response` record (`request`, `revisit`, `metadata`, `warcinfo` …).
    #[error("{0} record")]
    RecordType(String),
    /// A `response` record that does not hold an HTTP response (a `dns:` lookup …).
    #[error("not an HTTP response ({0})")]
    NotHttp(String),
    /// No usable `WARC-Target-URI`.
    #[error("no valid WARC-Target-URI")]
    NoUri,
    /// The HTTP status is not 200.
    #[error("HTTP status {0}")]
    Status(u16),
    /// The payload is not HTML.
    #[error("{0}")]
    NotHtml(Skip),
    /// The payload is larger than the page limit.
    #[error("payload larger than {0} bytes")]
    TooLarge(u64),
    /// The HTTP message could not be read.
    #[error("{0}")]
    Http(HttpError),
}

impl NotAudited {
    /// A short counting key for summaries: the record type, `non-200`, `non-HTML`, `too large` …
    pub fn key(&self) -> String {
        match self {
            NotAudited::RecordType(t) if t.is_empty() => "untyped".into(),
            NotAudited::RecordType(t) => t.clone(),
            NotAudited::NotHttp(_) => "non-HTTP".into(),
            NotAudited::NoUri => "no URI".into(),
            NotAudited::Status(_) => "non-200".into(),
            NotAudited::NotHtml(_) => "non-HTML".into(),
            NotAudited::TooLarge(_) | NotAudited::Http(HttpError::TooLarge(_)) => {
                "too large".into()
            }
            NotAudited::Http(_) => "unreadable HTTP".into(),
        }
    }
}

/// Whether a record's block is needed to audit it: a `response` record with an HTTP block.
pub fn wants_block(headers: &Headers) -> bool {
    headers.warc_type() == "response"
        && headers.get("Content-Type").is_none_or(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/http")
        })
}

/// Turns a `response` record holding a 200 HTML answer into the document to audit: the page URL is
/// `WARC-Target-URI`, the bytes are the decoded body and the content type is the HTTP header.
/// `max_page_bytes` caps the decoded body.
pub fn response_document(record: Record, max_page_bytes: u64) -> Result<Document, NotAudited> {
    let kind = record.headers.warc_type();
    if kind != "response" {
        return Err(NotAudited::RecordType(kind));
    }
    if let Some(ct) = record.headers.get("Content-Type")
        && !ct
            .trim()
            .to_ascii_lowercase()
            .starts_with("application/http")
    {
        return Err(NotAudited::NotHttp(ct.to_string()));
    }
    let uri = record.headers.target_uri().ok_or(NotAudited::NoUri)?;
    let base = Url::parse(uri).map_err(|_| NotAudited::NoUri)?;
    let display = uri.to_string();
    let Some(block) = record.block else {
        return Err(NotAudited::TooLarge(max_page_bytes));
    };
    let mut response = HttpResponse::parse_head(block).map_err(NotAudited::Http)?;
    if response.status != 200 {
        return Err(NotAudited::Status(response.status));
    }
    let mut doc = Document {
        display,
        base: Some(base),
        bytes: Vec::new(),
        content_type: response.header("Content-Type").map(str::to_string),
    };
    // The declared type first (no bytes yet: nothing to sniff), so images and scripts are not
    // decompressed for nothing; then the bytes are sniffed.
    doc.check_html().map_err(NotAudited::NotHtml)?;
    response
        .decode_body(max_page_bytes)
        .map_err(NotAudited::Http)?;
    doc.bytes = response.body;
    doc.check_html().map_err(NotAudited::NotHtml)?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warc::testutil::*;

    fn response_record(kind: &str, block: Vec<u8>) -> Record {
        Record {
            offset: 0,
            version: "1.0".into(),
            headers: Headers(vec![
                ("WARC-Type".into(), kind.into()),
                ("WARC-Target-URI".into(), "<https://s.example/p>".into()),
                (
                    "Content-Type".into(),
                    "application/http;msgtype=response".into(),
                ),
            ]),
            content_length: block.len() as u64,
            block: Some(block),
        }
    }

    #[test]
    fn only_200_html_responses_become_documents() {
        let page = http(
            "200 OK",
            "Content-Type: text/html; charset=utf-8\r\n",
            b"<p>x</p>",
        );
        let doc = response_document(response_record("response", page.clone()), 1000).unwrap();
        assert_eq!(doc.display, "https://s.example/p");
        assert_eq!(doc.base.unwrap().as_str(), "https://s.example/p");
        assert_eq!(doc.bytes, b"<p>x</p>");
        assert_eq!(
            doc.content_type.as_deref(),
            Some("text/html; charset=utf-8")
        );
        // No Content-Type: sniffed.
        let sniffed = http("200 OK", "", b"<p>x</p>");
        assert!(response_document(response_record("response", sniffed), 1000).is_ok());
        let binary = http("200 OK", "", b"\x89PNG\0\0\0");
        assert_eq!(
            response_document(response_record("response", binary), 1000).unwrap_err(),
            NotAudited::NotHtml(Skip::Binary)
        );
        let css = http("200 OK", "Content-Type: text/css\r\n", b"p{}");
        assert_eq!(
            response_document(response_record("response", css), 1000)
                .unwrap_err()
                .key(),
            "non-HTML"
        );
        let missing = http("404 Not Found", "Content-Type: text/html\r\n", b"<p>x</p>");
        assert_eq!(
            response_document(response_record("response", missing), 1000).unwrap_err(),
            NotAudited::Status(404)
        );
        assert_eq!(
            response_document(response_record("revisit", page.clone()), 1000).unwrap_err(),
            NotAudited::RecordType("revisit".into())
        );
        let mut too_big = response_record("response", page);
        too_big.block = None;
        assert_eq!(
            response_document(too_big, 1000).unwrap_err().key(),
            "too large"
        );
    }
}
