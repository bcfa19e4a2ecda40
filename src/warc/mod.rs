//! Web ARChive files (WARC 1.0 and 1.1, ISO 28500): a streaming reader, the HTTP parsing needed to
//! audit archived responses, a parallel auditor and a writer.
//!
//! [`WarcReader`] reads one record at a time from a plain `.warc` file or a `.warc.gz` (each record
//! its own gzip member, as Common Crawl and wget write them; a single gzip stream over the whole file
//! works too), so memory does not grow with the file: only the block of the current record is held,
//! and only when it is small enough and wanted. A truncated or corrupt record comes back as a
//! [`RecordError`] with its byte offset, and the reader goes on: in a `.warc.gz` at the next gzip
//! member, in a plain file at the next line that starts with `WARC/`.
//!
//! [`HttpResponse::parse`] splits the block of a `response` record into status, headers and body,
//! undoing chunked transfer coding and gzip, deflate or brotli content coding (wget stores the bytes
//! as they came over the wire; Common Crawl stores decoded bodies). [`response_document`] turns a
//! record into the [`Document`](crate::Document) that the [`Auditor`](crate::Auditor) audits, or says why it is
//! not audited, and [`run`] audits whole files on all cores with the results in file order.
//!
//! [`WarcWriter`] writes records, one gzip member each when asked (what `affcheck crawl --warc`
//! uses).
//!
//! One job per file: `error` (what can go wrong), `raw` (the file buffer that knows its offsets), `buffer` (the decoded streams under the reader),
//! `gzip` (gzip members and resync after damage), `header` (the named fields of a record),
//! `reader` (record framing), `http` (HTTP response blocks), `record` (records to documents),
//! `driver` (auditing files on all cores) and `writer`.

mod buffer;
mod driver;
mod error;
mod gzip;
mod header;
mod http;
mod raw;
mod reader;
mod record;
#[cfg(test)]
mod testutil;
mod writer;

pub use driver::{RunOptions, RunStats, WarcInput, run};
pub use error::{RecordError, WarcError};
pub use header::Headers;
pub use http::{HttpError, HttpResponse};
pub use reader::{Record, WarcReader};
pub use record::{NotAudited, response_document, wants_block};
pub use writer::{WarcWriter, encode_record, http_response_block};

/// Largest WARC header block read (version line, named fields and the blank line).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// What a `response` record block may hold beyond the page itself (the HTTP status line and
/// headers) before the record is skipped as too large without being read into memory.
pub const HTTP_HEADER_ALLOWANCE: u64 = 64 * 1024;

const READ_BUFFER: usize = 256 * 1024;
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
