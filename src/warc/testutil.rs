//! Test helpers shared by the unit tests of the WARC modules.

use std::io::Write;

use super::{Record, RecordError, WarcReader};

/// A plain WARC record of type `kind` for `uri`.
pub(super) fn record(kind: &str, uri: &str, block: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n",
        block.len()
    )
    .into_bytes();
    r.extend_from_slice(block);
    r.extend_from_slice(b"\r\n\r\n");
    r
}

/// An HTTP response block: `HTTP/1.1 {status}`, the header lines, a blank line and `body`.
pub(super) fn http(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut b = format!("HTTP/1.1 {status}\r\n{headers}\r\n").into_bytes();
    b.extend_from_slice(body);
    b
}

/// `data` as one gzip member.
pub(super) fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Every record (or error) in `bytes`.
pub(super) fn read_all(bytes: &[u8]) -> Vec<Result<Record, RecordError>> {
    WarcReader::new(bytes).unwrap().collect()
}

/// The target URI of each record, `error@OFFSET` for errors.
pub(super) fn uris(results: &[Result<Record, RecordError>]) -> Vec<String> {
    results
        .iter()
        .map(|r| match r {
            Ok(r) => r.headers.target_uri().unwrap_or("-").to_string(),
            Err(e) => format!("error@{}", e.offset),
        })
        .collect()
}
