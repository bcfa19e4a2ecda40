//! The HTTP response in a `response` record block: status line and headers, then the body with
//! chunked transfer coding and gzip, deflate or brotli content coding undone.

use std::io::Read;

use super::GZIP_MAGIC;
use super::header::header_end;

/// Why the HTTP message in a `response` record could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The block does not start with `HTTP/… status`.
    #[error("no HTTP status line")]
    NoStatusLine,
    /// The HTTP header block does not end.
    #[error("the HTTP headers do not end")]
    HeadersUnterminated,
    /// The body could not be decoded.
    #[error("cannot decode the {encoding}-encoded body: {cause}")]
    Decode {
        /// The `Content-Encoding`.
        encoding: String,
        /// What failed.
        cause: String,
    },
    /// A `Content-Encoding` this reader does not know.
    #[error("unsupported Content-Encoding {0:?}")]
    UnsupportedEncoding(String),
    /// The decoded body is larger than the limit.
    #[error("body larger than {0} bytes")]
    TooLarge(u64),
}

/// An HTTP response as archived: status, headers and the decoded body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header fields in order, as written.
    pub headers: Vec<(String, String)>,
    /// The body with transfer and content coding undone.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Parses the block of a `response` record. Chunked transfer coding is undone (a body that
    /// does not parse as chunks is taken as already de-chunked, and one cut off mid-chunk keeps
    /// what arrived); gzip, deflate and br content codings are decoded (a body that is plainly not
    /// compressed is taken as already decoded). Bodies that decode to more than `max_body` bytes
    /// are refused.
    pub fn parse(block: Vec<u8>, max_body: u64) -> Result<HttpResponse, HttpError> {
        let mut response = HttpResponse::parse_head(block)?;
        response.decode_body(max_body)?;
        Ok(response)
    }

    /// Parses the status line and headers; `body` is left as stored (still chunked or compressed
    /// if it was on the wire), so callers can decide from the head whether decoding is worth it.
    pub fn parse_head(mut block: Vec<u8>) -> Result<HttpResponse, HttpError> {
        let Head {
            status,
            headers,
            len,
        } = match parse_head_strict(&block) {
            Some(head) => head,
            None => parse_head_lenient(&block)?,
        };
        block.drain(..len);
        Ok(HttpResponse {
            status,
            headers,
            body: block,
        })
    }

    /// Undoes the transfer and content codings of a body read by [`HttpResponse::parse_head`]
    /// (see [`HttpResponse::parse`]).
    pub fn decode_body(&mut self, max_body: u64) -> Result<(), HttpError> {
        let response = self;
        let chunked = response
            .header_values("Transfer-Encoding")
            .any(|v| v.eq_ignore_ascii_case("chunked"));
        if chunked && let Some(body) = dechunk(&response.body, max_body)? {
            response.body = body;
        }
        let encodings: Vec<String> = response
            .header_values("Content-Encoding")
            .map(|v| v.to_ascii_lowercase())
            .filter(|v| !v.is_empty() && v != "identity")
            .collect();
        for encoding in encodings.iter().rev() {
            response.body = decode_content(std::mem::take(&mut response.body), encoding, max_body)?;
        }
        if response.body.len() as u64 > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        Ok(())
    }

    /// The first value of a header field (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every comma-separated item of every field `name`, trimmed.
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
    }
}

/// A parsed status line and header block.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
    /// Bytes through the empty line that ends the headers.
    len: usize,
}

/// Header fields httparse is given room for; a response with more takes the lenient path.
const MAX_HEADERS: usize = 64;

/// The well-formed case, parsed by httparse. `None` for anything it refuses (HTTP/2 status lines,
/// folded or nameless fields, spaces before a colon, control bytes, too many fields, or no end of
/// the headers yet): [`parse_head_lenient`] reads those as it always has. Where httparse accepts a
/// head the two give the same result (see the `strict_and_lenient_agree` test).
fn parse_head_strict(block: &[u8]) -> Option<Head> {
    // httparse skips empty lines before the status line; a block must start with it.
    if !block.starts_with(b"HTTP/") {
        return None;
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut fields);
    let httparse::Status::Complete(len) = response.parse(block).ok()? else {
        return None;
    };
    let status = response.code?;
    let headers = response
        .headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value);
            (h.name.to_string(), value.trim().to_string())
        })
        .collect();
    Some(Head {
        status,
        headers,
        len,
    })
}

/// What real archives hold beyond strict HTTP/1.x: any `HTTP/…` version, folded fields (joined
/// with a space), lines without a colon (ignored), names with spaces around them.
fn parse_head_lenient(block: &[u8]) -> Result<Head, HttpError> {
    let len = header_end_http(block).ok_or_else(|| {
        if block.starts_with(b"HTTP/") {
            HttpError::HeadersUnterminated
        } else {
            HttpError::NoStatusLine
        }
    })?;
    let head = String::from_utf8_lossy(&block[..len]);
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status_line = lines.next().unwrap_or("");
    let status = parse_status_line(status_line).ok_or(HttpError::NoStatusLine)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok(Head {
        status,
        headers,
        len,
    })
}

fn header_end_http(block: &[u8]) -> Option<usize> {
    if !block.starts_with(b"HTTP/") {
        return None;
    }
    header_end(block)
}

fn parse_status_line(line: &str) -> Option<u16> {
    let mut parts = line.split_ascii_whitespace();
    let proto = parts.next()?;
    if !proto.starts_with("HTTP/") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// Undoes chunked transfer coding. `Ok(None)` when the body does not start with a chunk size (it
/// was stored de-chunked); a body cut off mid-chunk keeps what arrived.
fn dechunk(body: &[u8], max: u64) -> Result<Option<Vec<u8>>, HttpError> {
    let mut out = Vec::with_capacity(body.len());
    let mut pos = 0;
    let mut first = true;
    while let Some(nl) = body[pos..].iter().position(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(&body[pos..pos + nl]);
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = match usize::from_str_radix(size_text, 16) {
            Ok(s) if !size_text.is_empty() => s,
            _ if first => return Ok(None),
            _ => break,
        };
        first = false;
        pos += nl + 1;
        if size == 0 {
            break;
        }
        let end = pos.saturating_add(size).min(body.len());
        out.extend_from_slice(&body[pos..end]);
        if out.len() as u64 > max {
            return Err(HttpError::TooLarge(max));
        }
        pos = end;
        if body[pos..].starts_with(b"\r\n") {
            pos += 2;
        } else if body[pos..].starts_with(b"\n") {
            pos += 1;
        }
        if pos >= body.len() {
            break;
        }
    }
    if first {
        return Ok(None);
    }
    Ok(Some(out))
}

/// Decodes one content coding, reading at most `max + 1` bytes of output.
fn decode_content(body: Vec<u8>, encoding: &str, max: u64) -> Result<Vec<u8>, HttpError> {
    let looks_plain = |b: &[u8]| {
        let head = &b[..b.len().min(1024)];
        let text = head.trim_ascii_start();
        text.starts_with(b"<") && !head.contains(&0)
    };
    let result = match encoding {
        "gzip" | "x-gzip" => {
            if !body.starts_with(&GZIP_MAGIC[..2]) {
                return Ok(body);
            }
            read_limited(flate2::bufread::MultiGzDecoder::new(&body[..]), max)
        }
        "deflate" => {
            let zlib = body.len() >= 2
                && body[0] & 0x0f == 8
                && (u16::from(body[0]) << 8 | u16::from(body[1])) % 31 == 0;
            if zlib {
                read_limited(flate2::bufread::ZlibDecoder::new(&body[..]), max)
            } else if looks_plain(&body) {
                return Ok(body);
            } else {
                read_limited(flate2::bufread::DeflateDecoder::new(&body[..]), max)
            }
        }
        "br" => read_limited(brotli_decompressor::Decompressor::new(&body[..], 4096), max),
        other => return Err(HttpError::UnsupportedEncoding(other.to_string())),
    };
    match result {
        Ok(out) if out.len() as u64 > max => Err(HttpError::TooLarge(max)),
        Ok(out) => Ok(out),
        // Cut off mid-stream (a truncated record): keep what decoded.
        Err((out, _)) if !out.is_empty() => Ok(out),
        Err(_) if looks_plain(&body) => Ok(body),
        Err((_, cause)) => Err(HttpError::Decode {
            encoding: encoding.to_string(),
            cause,
        }),
    }
}

fn read_limited(reader: impl Read, max: u64) -> Result<Vec<u8>, (Vec<u8>, String)> {
    let mut out = Vec::new();
    match reader.take(max.saturating_add(1)).read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(e) => Err((out, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::warc::testutil::*;

    #[test]
    fn http_chunked_and_gzip_bodies() {
        let chunked = http(
            "200 OK",
            "Transfer-Encoding: chunked\r\nContent-Type: text/html\r\n",
            b"5\r\n<p>hi\r\n6;ext=1\r\n there\r\n0\r\n\r\n",
        );
        let r = HttpResponse::parse(chunked, 1000).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"<p>hi there");
        assert_eq!(r.header("content-type"), Some("text/html"));

        let body = gz(b"<p>compressed</p>");
        let mut chunks = format!("{:x}\r\n", body.len()).into_bytes();
        chunks.extend_from_slice(&body);
        chunks.extend_from_slice(b"\r\n0\r\n\r\n");
        let both = http(
            "200 OK",
            "Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n",
            &chunks,
        );
        assert_eq!(
            HttpResponse::parse(both, 1000).unwrap().body,
            b"<p>compressed</p>"
        );

        // Already de-chunked and decoded bodies (Common Crawl keeps no such headers, others do).
        let stored_plain = http(
            "200 OK",
            "Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n",
            b"<p>plain</p>",
        );
        assert_eq!(
            HttpResponse::parse(stored_plain, 1000).unwrap().body,
            b"<p>plain</p>"
        );

        // Cut off mid-chunk: what arrived.
        let cut = http("200 OK", "Transfer-Encoding: chunked\r\n", b"a\r\n<p>abc");
        assert_eq!(HttpResponse::parse(cut, 1000).unwrap().body, b"<p>abc");
    }

    #[test]
    fn http_deflate_brotli_and_limits() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"<p>zlib</p>").unwrap();
        let r = HttpResponse::parse(
            http(
                "200 OK",
                "Content-Encoding: deflate\r\n",
                &z.finish().unwrap(),
            ),
            100,
        )
        .unwrap();
        assert_eq!(r.body, b"<p>zlib</p>");
        // A hand-made brotli stream: one uncompressed meta-block, then the empty last one.
        let br = [&[0x80, 0x00, 0x10][..], b"<p>br</p>", &[0x03]].concat();
        let r = HttpResponse::parse(http("200 OK", "Content-Encoding: br\r\n", &br), 100).unwrap();
        assert_eq!(r.body, b"<p>br</p>");
        let big = gz(&[b'a'; 10_000]);
        assert_eq!(
            HttpResponse::parse(http("200 OK", "Content-Encoding: gzip\r\n", &big), 100)
                .unwrap_err(),
            HttpError::TooLarge(100)
        );
        assert_eq!(
            HttpResponse::parse(http("200 OK", "Content-Encoding: zstd\r\n", b"x"), 100)
                .unwrap_err(),
            HttpError::UnsupportedEncoding("zstd".into())
        );
        assert_eq!(
            HttpResponse::parse(b"<html>".to_vec(), 100).unwrap_err(),
            HttpError::NoStatusLine
        );
        assert_eq!(
            HttpResponse::parse(b"HTTP/1.1 200 OK\r\nA: b".to_vec(), 100).unwrap_err(),
            HttpError::HeadersUnterminated
        );
    }

    /// Heads as archives hold them, well-formed or not.
    const HEADS: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200\r\nContent-Type: text/html\r\n\r\n",
        b"HTTP/1.1 200 \r\n\r\n",
        b"HTTP/1.0 200 OK\nContent-Type: text/html; charset=iso-8859-1\n\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\n\r\n",
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\r\n",
        b"HTTP/1.1 099 Odd\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type:text/html\r\nX-Empty:\r\nX-Blank:   \r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html  \r\nX-Trail: v \t \r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Type: text/plain\r\n\r\n",
        b"HTTP/1.1 200 Ok \xc3\xa9\xff\r\nContent-Type: text/html; charset=\xe9\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Utf8: caf\xc3\xa9\xc2\xa0\r\nX-Tab: a\tb\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
        b"HTTP/2 200\r\ncontent-type: text/html\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"HTTP/1.1  200  OK\r\n\r\n",
        b"HTTP/1.1 +20 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html;\r\n  charset=utf-8\r\nX-A: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n \r\nContent-Type: text/html\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\tleading fold\r\nContent-Type: text/html\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type : text/html\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Type: text/html\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Ctl: a\x01b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n",
        b"http/1.1 200 OK\r\n\r\n",
        b"<html>",
    ];

    #[test]
    fn strict_and_lenient_agree() {
        let mut strict = 0;
        for head in HEADS {
            let block = [*head, b"<p>body</p>"].concat();
            if let Some(parsed) = parse_head_strict(&block) {
                strict += 1;
                let text = String::from_utf8_lossy(head);
                assert_eq!(Ok(parsed), parse_head_lenient(&block), "{text:?}");
            }
        }
        assert_eq!(strict, 14, "the well-formed heads go through httparse");
        // Many fields: more than httparse is given room for, read leniently.
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..MAX_HEADERS + 10 {
            many.extend_from_slice(format!("Set-Cookie: c{i}=v\r\n").as_bytes());
        }
        many.extend_from_slice(b"Content-Type: text/html\r\n\r\n<p>x</p>");
        assert_eq!(parse_head_strict(&many), None);
        let r = HttpResponse::parse_head(many).unwrap();
        assert_eq!(r.headers.len(), MAX_HEADERS + 11);
        assert_eq!(r.header("content-type"), Some("text/html"));
        assert_eq!(r.body, b"<p>x</p>");
    }

    #[test]
    fn heads_httparse_refuses_are_read_leniently() {
        let parse = |head: &[u8]| HttpResponse::parse_head([head, b"<p>x</p>"].concat());
        let r = parse(b"HTTP/2 200\r\ncontent-type: text/html\r\n\r\n").unwrap();
        assert_eq!(
            (r.status, r.header("Content-Type")),
            (200, Some("text/html"))
        );
        assert_eq!(r.body, b"<p>x</p>");
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Type: text/html;\r\n  charset=utf-8\r\n\r\n");
        assert_eq!(
            r.unwrap().header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Type : text/html\r\n\r\n").unwrap();
        assert_eq!(r.header("content-type"), Some("text/html"));
        let r = parse(b"HTTP/1.1 200 OK\r\nNoColonHere\r\nA: b\r\n\r\n").unwrap();
        assert_eq!(r.headers, [("A".to_string(), "b".to_string())]);
        let r = parse(b"HTTP/1.1 200 OK\r\n: nameless\r\n\r\n").unwrap();
        assert_eq!(r.headers, [(String::new(), "nameless".to_string())]);
        assert_eq!(parse(b"HTTP/1.1 +20 OK\r\n\r\n").unwrap().status, 20);
        assert_eq!(
            parse(b"HTTP/1.1 2000 OK\r\n\r\n").unwrap_err(),
            HttpError::NoStatusLine
        );
    }
}
