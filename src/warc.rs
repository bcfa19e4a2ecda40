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
//! record into the [`Document`] that [`crate::pipeline::audit_document`] audits, or says why it is
//! not audited, and [`run`] audits whole files on all cores with the results in file order.
//!
//! [`WarcWriter`] writes records, one gzip member each when asked (what `affcheck crawl --warc`
//! uses).

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::path::PathBuf;
use std::time::SystemTime;

use url::Url;

use crate::document::{Document, Skip};
use crate::findings::{AuditOptions, PageReport};
use crate::pipeline::{audit_document, ordered_map};
use crate::rules::Ruleset;

/// Largest WARC header block read (version line, named fields and the blank line).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// What a `response` record block may hold beyond the page itself (the HTTP status line and
/// headers) before the record is skipped as too large without being read into memory.
pub const HTTP_HEADER_ALLOWANCE: u64 = 64 * 1024;

const READ_BUFFER: usize = 256 * 1024;
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WarcError {
    /// The file could not be read (a disk or pipe error, not bad content). The reader stops.
    #[error("cannot read: {0}")]
    Io(#[source] io::Error),
    /// The gzip data is damaged or cut off; the reader goes on at the next gzip member.
    #[error("corrupt gzip data in the member at byte {member}: {cause}")]
    Gzip {
        /// Byte offset of the damaged member in the compressed file.
        member: u64,
        /// What the decompressor said.
        cause: String,
    },
    /// Where a record should start there is no `WARC/…` version line.
    #[error("no WARC version line where a record should start (is this a WARC file?)")]
    NotWarc,
    /// The version line names a version this reader does not know.
    #[error("unsupported WARC version {0:?} (1.0 and 1.1 are read, and the older 0.17 and 0.18)")]
    Version(String),
    /// A header line is not `Name: value`.
    #[error("malformed WARC header line {0:?}")]
    HeaderLine(String),
    /// The header block does not end within [`MAX_HEADER_BYTES`].
    #[error("WARC header block longer than {0} bytes")]
    HeaderTooLong(usize),
    /// `Content-Length` is missing or not a number.
    #[error("missing or invalid Content-Length {0:?}")]
    ContentLength(String),
    /// The input ends inside the record.
    #[error(
        "record truncated: the input ends {missing} bytes before the end of its {length}-byte block"
    )]
    Truncated {
        /// The block length the record declares.
        length: u64,
        /// Bytes missing at the end.
        missing: u64,
    },
    /// The input ends inside the header block.
    #[error("record truncated: the input ends inside the WARC header block")]
    TruncatedHeader,
    /// The block is not followed by the blank lines that end a record.
    #[error(
        "the {length}-byte block (Content-Length) is not followed by the end of the record: wrong Content-Length or damaged record"
    )]
    Trailer {
        /// The block length the record declares.
        length: u64,
    },
}

/// A record that could not be read, and where it starts.
#[derive(Debug, thiserror::Error)]
#[error("{}: {error}", self.location())]
pub struct RecordError {
    /// Byte offset of the record in the file; in a `.warc.gz`, of the gzip member it starts in.
    pub offset: u64,
    /// Whether the file is gzip-compressed (`offset` is then a member offset).
    pub gzip: bool,
    /// What is wrong.
    pub error: WarcError,
}

impl RecordError {
    /// "record at byte N" or "record in the gzip member at byte N".
    pub fn location(&self) -> String {
        if self.gzip {
            format!("record in the gzip member at byte {}", self.offset)
        } else {
            format!("record at byte {}", self.offset)
        }
    }

    /// Whether the reader stopped after this error (a read error, not bad content).
    pub fn is_fatal(&self) -> bool {
        matches!(self.error, WarcError::Io(_))
    }
}

/// A gzip error carried through `io::Error` from the member decoder to the record parser.
#[derive(Debug)]
struct GzipCorrupt {
    /// Compressed offset of the member.
    member: u64,
    /// Decompressed offset where the member's output began (its partial output is dropped).
    start: u64,
    cause: String,
}

impl fmt::Display for GzipCorrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gzip member at byte {}: {}", self.member, self.cause)
    }
}

impl std::error::Error for GzipCorrupt {}

fn classify_io(e: io::Error) -> WarcError {
    if let Some(g) = e.get_ref().and_then(|g| g.downcast_ref::<GzipCorrupt>()) {
        return WarcError::Gzip {
            member: g.member,
            cause: g.cause.clone(),
        };
    }
    WarcError::Io(e)
}

// ---------------------------------------------------------------------------------------------
// The compressed side: a buffered reader that knows its offset, and gzip member decoding
// ---------------------------------------------------------------------------------------------

/// A buffered reader that counts consumed bytes and can make several bytes available at once.
struct RawBuf<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Offset in the input of `buf[pos]`.
    offset: u64,
}

impl<R: Read> RawBuf<R> {
    fn new(inner: R) -> Self {
        RawBuf {
            inner,
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            pos: 0,
            end: 0,
            offset: 0,
        }
    }

    /// Makes at least `n` bytes available unless the input ends first.
    fn fill_to(&mut self, n: usize) -> io::Result<&[u8]> {
        while self.end - self.pos < n {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            }
            if self.end == self.buf.len() {
                break;
            }
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => break,
                Ok(got) => self.end += got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(&self.buf[self.pos..self.end])
    }

    /// Goes back to `offset` if those bytes are still in the buffer.
    fn rewind_to(&mut self, offset: u64) {
        let buf_start = self.offset - self.pos as u64;
        if (buf_start..self.offset).contains(&offset) {
            self.pos = (offset - buf_start) as usize;
            self.offset = offset;
        }
    }
}

impl<R: Read> Read for RawBuf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end && out.len() >= self.buf.len() {
            let n = self.inner.read(out)?;
            self.offset += n as u64;
            return Ok(n);
        }
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for RawBuf<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => {
                        self.end = n;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        self.pos += n;
        self.offset += n as u64;
    }
}

enum GzState<R: Read> {
    /// Between members: the next byte starts a member (or the input ends).
    Between(RawBuf<R>),
    /// Inside a member.
    Member(Box<flate2::bufread::GzDecoder<RawBuf<R>>>),
    /// Only while switching states.
    Gone,
}

/// Decodes gzip members one after the other, remembering where each starts in both streams.
struct GzMembers<R: Read> {
    state: GzState<R>,
    /// Decompressed bytes produced so far.
    produced: u64,
    /// (decompressed offset, compressed offset) of the members that may still hold unread records.
    members: VecDeque<(u64, u64)>,
}

impl<R: Read> GzMembers<R> {
    fn new(raw: RawBuf<R>) -> Self {
        GzMembers {
            state: GzState::Between(raw),
            produced: 0,
            members: VecDeque::new(),
        }
    }

    /// Compressed offset of the member holding decompressed offset `at`. Queries must not go back
    /// before an earlier query's member.
    fn member_at(&mut self, at: u64) -> u64 {
        while self.members.len() >= 2 && self.members[1].0 <= at {
            self.members.pop_front();
        }
        self.members.front().map_or(0, |m| m.1)
    }

    /// Skips to the next gzip header at or after `not_before` (going back to it when the decoder
    /// read past it and the bytes are still buffered: a damaged header may hide the next one).
    fn resync(raw: &mut RawBuf<R>, not_before: u64) -> io::Result<()> {
        raw.rewind_to(not_before);
        while raw.offset < not_before {
            let avail = raw.fill_buf()?.len();
            if avail == 0 {
                return Ok(());
            }
            raw.consume(avail.min((not_before - raw.offset) as usize));
        }
        loop {
            let avail = raw.fill_to(GZIP_MAGIC.len())?;
            if avail.len() < GZIP_MAGIC.len() {
                let n = avail.len();
                raw.consume(n);
                return Ok(());
            }
            match avail.iter().position(|&b| b == GZIP_MAGIC[0]) {
                Some(i) if i + GZIP_MAGIC.len() <= avail.len() => {
                    if avail[i..i + GZIP_MAGIC.len()] == GZIP_MAGIC {
                        raw.consume(i);
                        return Ok(());
                    }
                    raw.consume(i + 1);
                }
                // The candidate straddles the buffer end: bring it to the front and look again.
                Some(i) => raw.consume(i),
                None => {
                    let n = avail.len();
                    raw.consume(n);
                }
            }
        }
    }
}

impl<R: Read> Read for GzMembers<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match std::mem::replace(&mut self.state, GzState::Gone) {
                GzState::Between(mut raw) => {
                    let empty = match raw.fill_buf() {
                        Ok(b) => b.is_empty(),
                        Err(e) => {
                            self.state = GzState::Between(raw);
                            return Err(e);
                        }
                    };
                    if empty {
                        self.state = GzState::Between(raw);
                        return Ok(0);
                    }
                    self.members.push_back((self.produced, raw.offset));
                    self.state = GzState::Member(Box::new(flate2::bufread::GzDecoder::new(raw)));
                }
                GzState::Member(mut dec) => match dec.read(out) {
                    Ok(0) => self.state = GzState::Between(dec.into_inner()),
                    Ok(n) => {
                        self.produced += n as u64;
                        self.state = GzState::Member(dec);
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        self.state = GzState::Member(dec);
                    }
                    Err(e) => {
                        let (start, member) = self.members.back().copied().unwrap_or((0, 0));
                        let mut raw = dec.into_inner();
                        let corrupt = matches!(
                            e.kind(),
                            io::ErrorKind::InvalidData
                                | io::ErrorKind::InvalidInput
                                | io::ErrorKind::UnexpectedEof
                        );
                        if !corrupt {
                            self.state = GzState::Between(raw);
                            return Err(e);
                        }
                        let resynced = Self::resync(&mut raw, member + 1);
                        self.state = GzState::Between(raw);
                        resynced?;
                        // Forget the damaged member's output: the stream goes on as if it never was.
                        self.produced = start;
                        self.members.pop_back();
                        let cause = if e.kind() == io::ErrorKind::UnexpectedEof {
                            "the member is cut off".to_string()
                        } else {
                            e.to_string()
                        };
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            GzipCorrupt {
                                member,
                                start,
                                cause,
                            },
                        ));
                    }
                },
                GzState::Gone => return Ok(0),
            }
        }
    }
}

/// The decompressed stream of a plain or gzip file.
enum Decoded<R: Read> {
    Plain(RawBuf<R>),
    Gzip(GzMembers<R>),
}

impl<R: Read> Decoded<R> {
    fn container_offset(&mut self, at: u64) -> u64 {
        match self {
            Decoded::Plain(_) => at,
            Decoded::Gzip(g) => g.member_at(at),
        }
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoded::Plain(r) => r.read(out),
            Decoded::Gzip(g) => g.read(out),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The record side
// ---------------------------------------------------------------------------------------------

/// The decompressed bytes, buffered, with their stream offset.
struct Bytes<R: Read> {
    src: Decoded<R>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Decompressed offset of `buf[pos]`.
    offset: u64,
    /// An error met while looking ahead, returned by the next `more`.
    pending: Option<io::Error>,
    /// Decompressed offset where the last damaged gzip member began.
    damaged_at: u64,
}

impl<R: Read> Bytes<R> {
    /// After a gzip error: drops what the damaged member produced, so the buffer holds only bytes
    /// from before it and the next read continues with the next member.
    fn rollback(&mut self, e: &io::Error) {
        let Some(g) = e.get_ref().and_then(|g| g.downcast_ref::<GzipCorrupt>()) else {
            return;
        };
        self.damaged_at = g.start;
        if g.start >= self.offset {
            let keep = ((g.start - self.offset) as usize).min(self.end - self.pos);
            self.end = self.pos + keep;
        } else {
            self.end = self.pos;
            self.offset = g.start;
        }
    }

    fn avail(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        self.pos += n;
        self.offset += n as u64;
    }

    /// Reads more at the end of the buffer; `Ok(false)` at the end of the input.
    fn more(&mut self) -> io::Result<bool> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        if self.pos > 0 && (self.pos == self.end || self.end == self.buf.len()) {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let len = self.buf.len() * 2;
            self.buf.resize(len, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.rollback(&e);
                    return Err(e);
                }
            }
        }
    }

    /// Makes at least `n` bytes available unless the input ends first. An error is kept for the
    /// next `more`: looking ahead past the end of a record must not fail that record.
    fn peek_to(&mut self, n: usize) {
        while self.end - self.pos < n {
            match self.more() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    self.pending = Some(e);
                    break;
                }
            }
        }
    }

    /// Reads exactly `n` bytes into a new vector; on a short input returns what there was.
    fn take(&mut self, n: u64) -> io::Result<Vec<u8>> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        // A damaged Content-Length must not allocate more than the input holds.
        let mut out = Vec::with_capacity(n.min(16 << 20) as usize);
        let from_buf = ((self.end - self.pos) as u64).min(n) as usize;
        out.extend_from_slice(&self.buf[self.pos..self.pos + from_buf]);
        self.consume(from_buf);
        let rest = n - from_buf as u64;
        if rest > 0 {
            let before = out.len();
            let result = (&mut self.src).take(rest).read_to_end(&mut out);
            self.offset += (out.len() - before) as u64;
            if let Err(e) = result {
                self.rollback(&e);
                return Err(e);
            }
        }
        Ok(out)
    }

    /// Skips `n` bytes; returns how many there were.
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let mut left = n;
        loop {
            let here = ((self.end - self.pos) as u64).min(left);
            self.consume(here as usize);
            left -= here;
            if left == 0 || !self.more()? {
                return Ok(n - left);
            }
        }
    }

    /// Puts bytes back in front of the buffer.
    fn unread(&mut self, data: &[u8]) {
        let mut buf = Vec::with_capacity(data.len() + self.end - self.pos + READ_BUFFER);
        buf.extend_from_slice(data);
        buf.extend_from_slice(&self.buf[self.pos..self.end]);
        self.end = buf.len();
        buf.resize(buf.len().max(READ_BUFFER), 0);
        self.buf = buf;
        self.pos = 0;
        self.offset -= data.len() as u64;
    }
}

/// The named fields of a WARC record header, in order. Names compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The first value of the field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `WARC-Type`, lower-cased (`response`, `request`, `warcinfo` …), or `""` when missing.
    pub fn warc_type(&self) -> String {
        self.get("WARC-Type").unwrap_or("").to_ascii_lowercase()
    }

    /// `WARC-Target-URI` without the angle brackets some writers (wget) put around it.
    pub fn target_uri(&self) -> Option<&str> {
        self.get("WARC-Target-URI").map(|u| {
            let u = u.trim();
            u.strip_prefix('<')
                .and_then(|u| u.strip_suffix('>'))
                .unwrap_or(u)
        })
    }
}

/// One WARC record.
#[derive(Debug, Clone)]
pub struct Record {
    /// Byte offset of the record in the file; in a `.warc.gz`, of the gzip member it starts in.
    pub offset: u64,
    /// The version line without `WARC/` (`1.0`, `1.1`).
    pub version: String,
    /// The named fields.
    pub headers: Headers,
    /// The block length (`Content-Length`).
    pub content_length: u64,
    /// The block, unless it was larger than the reader's limit or not wanted (then skipped unread).
    pub block: Option<Vec<u8>>,
}

/// Reads WARC records one by one from a plain or gzip-compressed input (detected from its first
/// bytes), holding at most one record block in memory.
pub struct WarcReader<R: Read> {
    bytes: Bytes<R>,
    gzip: bool,
    max_block: u64,
    /// Looking for the next record start after an error.
    resync: bool,
    /// The next byte may start a record even without a preceding newline (a new gzip member).
    fresh_member: bool,
    done: bool,
}

impl<R: Read> WarcReader<R> {
    /// A reader over `input`; gzip is detected from the first bytes. Blocks of any size are read
    /// until [`WarcReader::max_block`] says otherwise.
    pub fn new(input: R) -> io::Result<Self> {
        let mut raw = RawBuf::new(input);
        let gzip = raw.fill_to(2)?.starts_with(&GZIP_MAGIC[..2]);
        let src = if gzip {
            Decoded::Gzip(GzMembers::new(raw))
        } else {
            Decoded::Plain(raw)
        };
        Ok(WarcReader {
            bytes: Bytes {
                src,
                buf: vec![0; READ_BUFFER],
                pos: 0,
                end: 0,
                offset: 0,
                pending: None,
                damaged_at: 0,
            },
            gzip,
            max_block: u64::MAX,
            resync: false,
            fresh_member: true,
            done: false,
        })
    }

    /// Skips (without holding them) blocks larger than `max` bytes: their records come back with
    /// `block: None`.
    pub fn max_block(mut self, max: u64) -> Self {
        self.max_block = max;
        self
    }

    /// Whether the input is gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    fn error(&mut self, at: u64, error: WarcError) -> RecordError {
        let fatal = matches!(error, WarcError::Io(_));
        let gzip_error = matches!(error, WarcError::Gzip { .. });
        if fatal {
            self.done = true;
        }
        self.resync = true;
        // After a gzip error the stream goes on at the start of the next member.
        self.fresh_member = gzip_error;
        let offset = match &error {
            // A record that starts in the damaged member is reported at that member; one that
            // started earlier (a record split over members) at its own start.
            WarcError::Gzip { member, .. } if at >= self.bytes.damaged_at => *member,
            _ => self.bytes.src.container_offset(at),
        };
        RecordError {
            offset,
            gzip: self.gzip,
            error,
        }
    }

    /// Moves to the start of the next record. `Ok(false)` at the end of the input, `Err` for bytes
    /// that do not start a record (or a read error).
    fn find_start(&mut self) -> Result<bool, WarcError> {
        loop {
            self.bytes.peek_to(8);
            let avail = self.bytes.avail();
            if avail.is_empty() {
                return match self.bytes.pending.take() {
                    Some(e) => Err(classify_io(e)),
                    None => Ok(false),
                };
            }
            if !self.resync || self.fresh_member {
                // Blank lines between records are tolerated.
                let blank = avail
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                if blank > 0 {
                    self.bytes.consume(blank);
                    continue;
                }
                if avail.starts_with(b"WARC/") {
                    self.resync = false;
                    self.fresh_member = false;
                    return Ok(true);
                }
                if !self.resync {
                    return Err(WarcError::NotWarc);
                }
                self.fresh_member = false;
            }
            // Resync: the next "\nWARC/" in the stream.
            let avail = self.bytes.avail();
            match find(avail, b"\nWARC/") {
                Some(i) => {
                    self.bytes.consume(i + 1);
                    self.resync = false;
                    return Ok(true);
                }
                None => {
                    // Keep a tail that may be the start of a match.
                    let keep = avail.len().min(5);
                    let drop = avail.len() - keep;
                    self.bytes.consume(drop);
                    let before = self.bytes.end - self.bytes.pos;
                    if !self.bytes.more().map_err(classify_io)?
                        && self.bytes.end - self.bytes.pos == before
                    {
                        let n = self.bytes.end - self.bytes.pos;
                        self.bytes.consume(n);
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// The next record, asking `keep` (given the header) whether to read its block into memory.
    /// Blocks larger than the reader's limit are never read. `None` at the end of the input.
    pub fn next_record_with(
        &mut self,
        keep: impl FnOnce(&Headers) -> bool,
    ) -> Option<Result<Record, RecordError>> {
        if self.done {
            return None;
        }
        match self.find_start() {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                let at = self.bytes.offset;
                return Some(Err(self.error(at, e)));
            }
        }
        let start = self.bytes.offset;
        Some(self.read_record(start, keep))
    }

    fn read_record(
        &mut self,
        start: u64,
        keep: impl FnOnce(&Headers) -> bool,
    ) -> Result<Record, RecordError> {
        // The header block, up to the first empty line.
        let header_len = loop {
            let avail = self.bytes.avail();
            if let Some(end) = header_end(avail) {
                break end;
            }
            if avail.len() > MAX_HEADER_BYTES {
                // Step past this "WARC/" so the resync finds the next record.
                self.bytes.consume(1);
                return Err(self.error(start, WarcError::HeaderTooLong(MAX_HEADER_BYTES)));
            }
            match self.bytes.more() {
                Ok(true) => {}
                Ok(false) => {
                    let n = self.bytes.end - self.bytes.pos;
                    self.bytes.consume(n);
                    self.done = true;
                    return Err(self.error(start, WarcError::TruncatedHeader));
                }
                Err(e) => return Err(self.error(start, classify_io(e))),
            }
        };
        let offset = self.bytes.src.container_offset(start);
        let parsed = parse_warc_header(&self.bytes.avail()[..header_len]);
        self.bytes.consume(header_len);
        let (version, headers) = match parsed {
            Ok(v) => v,
            Err(e) => return Err(self.error(start, e)),
        };
        let length = match headers.get("Content-Length").map(str::trim) {
            Some(v) => match v.parse::<u64>() {
                Ok(n) => n,
                Err(_) => return Err(self.error(start, WarcError::ContentLength(v.to_string()))),
            },
            None => return Err(self.error(start, WarcError::ContentLength(String::new()))),
        };
        let wanted = length <= self.max_block && keep(&headers);
        let block = if wanted {
            match self.bytes.take(length) {
                Ok(b) if (b.len() as u64) < length => {
                    self.done = true;
                    let missing = length - b.len() as u64;
                    return Err(self.error(start, WarcError::Truncated { length, missing }));
                }
                Ok(b) => Some(b),
                Err(e) => return Err(self.error(start, classify_io(e))),
            }
        } else {
            match self.bytes.skip(length) {
                Ok(n) if n < length => {
                    self.done = true;
                    let missing = length - n;
                    return Err(self.error(start, WarcError::Truncated { length, missing }));
                }
                Ok(_) => None,
                Err(e) => return Err(self.error(start, classify_io(e))),
            }
        };
        // The record ends with CRLF CRLF; be lenient about the line ends, strict about what follows.
        self.bytes.peek_to(4 + 5);
        let avail = self.bytes.avail();
        if avail.starts_with(b"\r\n\r\n") {
            self.bytes.consume(4);
        } else {
            let eol = avail
                .iter()
                .take(4)
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            let rest = &avail[eol..];
            if rest.is_empty() || rest.starts_with(b"WARC/") {
                self.bytes.consume(eol);
            } else {
                // A wrong Content-Length: the next record may start inside what was read as the block.
                if let Some(b) = &block
                    && let Some(i) = find(b, b"\nWARC/")
                {
                    let tail = b[i + 1..].to_vec();
                    self.bytes.unread(&tail);
                    let err = self.error(start, WarcError::Trailer { length });
                    self.resync = false;
                    return Err(err);
                }
                return Err(self.error(start, WarcError::Trailer { length }));
            }
        }
        Ok(Record {
            offset,
            version,
            headers,
            content_length: length,
            block,
        })
    }
}

impl<R: Read> Iterator for WarcReader<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record_with(|_| true)
    }
}

/// Length of the header block (through the empty line), if it is complete in `buf`.
fn header_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = buf[from..].iter().position(|&b| b == b'\n') {
        let nl = from + i;
        let next = &buf[nl + 1..];
        if next.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        if next.starts_with(b"\n") {
            return Some(nl + 2);
        }
        from = nl + 1;
    }
    None
}

fn parse_warc_header(block: &[u8]) -> Result<(String, Headers), WarcError> {
    let text = String::from_utf8_lossy(block);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or("").trim_end();
    let Some(version) = first.strip_prefix("WARC/") else {
        return Err(WarcError::NotWarc);
    };
    if !matches!(version, "1.0" | "1.1" | "0.17" | "0.18") {
        return Err(WarcError::Version(first.to_string()));
    }
    let mut headers: Vec<(String, String)> = Vec::with_capacity(16);
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A folded continuation of the previous field.
            match headers.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(WarcError::HeaderLine(line.to_string())),
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.is_empty() && !name.contains(' ') => {
                headers.push((name.to_string(), value.trim().to_string()));
            }
            _ => return Err(WarcError::HeaderLine(line.chars().take(200).collect())),
        }
    }
    Ok((version.to_string(), Headers(headers)))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// HTTP responses inside records
// ---------------------------------------------------------------------------------------------

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
        let head_len = header_end_http(&block).ok_or_else(|| {
            if block.starts_with(b"HTTP/") {
                HttpError::HeadersUnterminated
            } else {
                HttpError::NoStatusLine
            }
        })?;
        let (status, headers) = {
            let head = String::from_utf8_lossy(&block[..head_len]);
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
            (status, headers)
        };
        block.drain(..head_len);
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

// ---------------------------------------------------------------------------------------------
// Records to documents
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Auditing files on all cores
// ---------------------------------------------------------------------------------------------

/// A WARC input: a file or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarcInput {
    /// A `.warc` or `.warc.gz` file.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl WarcInput {
    /// `-` is standard input, anything else a path.
    pub fn parse(arg: &str) -> WarcInput {
        if arg == "-" {
            WarcInput::Stdin
        } else {
            WarcInput::Path(PathBuf::from(arg))
        }
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            WarcInput::Path(p) => p.display().to_string(),
            WarcInput::Stdin => "<stdin>".into(),
        }
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            WarcInput::Path(p) => Box::new(std::fs::File::open(p)?),
            WarcInput::Stdin => Box::new(io::stdin()),
        })
    }
}

/// How [`run`] reads and audits.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Largest page audited (decoded body); larger responses are skipped unread.
    pub max_page_bytes: u64,
    /// Worker threads that parse HTTP and audit pages (the calling thread reorders, one more
    /// thread reads and decompresses).
    pub threads: usize,
    /// Audit options.
    pub audit: AuditOptions,
}

/// What [`run`] reports, in file and record order.
#[derive(Debug)]
pub enum Event {
    /// A page was audited.
    Audited(PageReport),
    /// A record was read and not audited (every record that is not an audited page, once).
    Skipped {
        /// `WARC-Target-URI`, when there is one.
        uri: Option<String>,
        /// Why.
        reason: NotAudited,
    },
    /// A record could not be read; the file is read on from the next record.
    Corrupt {
        /// The file.
        file: String,
        /// Where and why.
        error: RecordError,
    },
    /// A file could not be opened or read at all.
    FileError {
        /// The file.
        file: String,
        /// Why.
        error: io::Error,
    },
}

enum Job {
    Record(Record),
    Done(Event),
}

/// Reads every input in order (one thread decompresses and frames records) and audits each
/// `response` record with `options.threads` workers, handing the events to `on_event` in input and
/// record order. Memory is bounded by a few records per worker, however large the files.
pub fn run(
    inputs: &[WarcInput],
    rules: &Ruleset,
    options: RunOptions,
    on_event: impl FnMut(Event),
) {
    let threads = options.threads.max(1);
    let max_block = options.max_page_bytes.saturating_add(HTTP_HEADER_ALLOWANCE);
    // Reading and decompressing happen on the pipeline's producer thread, record by record.
    let jobs = inputs
        .iter()
        .flat_map(move |input| -> Box<dyn Iterator<Item = Job> + Send> {
            let file = input.name();
            let mut reader = match input.open().and_then(WarcReader::new) {
                Ok(r) => r.max_block(max_block),
                Err(error) => {
                    return Box::new(std::iter::once(Job::Done(Event::FileError { file, error })));
                }
            };
            Box::new(std::iter::from_fn(move || {
                let job = match reader.next_record_with(wants_block)? {
                    Ok(r) if wants_block(&r.headers) => Job::Record(r),
                    Ok(r) => Job::Done(Event::Skipped {
                        uri: r.headers.target_uri().map(str::to_string),
                        reason: NotAudited::RecordType(r.headers.warc_type()),
                    }),
                    Err(error) => Job::Done(Event::Corrupt {
                        file: file.clone(),
                        error,
                    }),
                };
                Some(job)
            }))
        });
    ordered_map(
        jobs,
        threads,
        threads * 4,
        |job| match job {
            Job::Done(e) => e,
            Job::Record(record) => {
                let uri = record.headers.target_uri().map(str::to_string);
                match response_document(record, options.max_page_bytes) {
                    Ok(doc) => match audit_document(&doc, rules, &options.audit) {
                        Ok(report) => Event::Audited(report),
                        Err(skip) => Event::Skipped {
                            uri,
                            reason: NotAudited::NotHtml(skip),
                        },
                    },
                    Err(reason) => Event::Skipped { uri, reason },
                }
            }
        },
        on_event,
    );
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Writes WARC 1.0 records, each its own gzip member when `gzip` is set (the `.warc.gz` layout).
/// Every record goes out in one `write_all` call, so a process killed between records leaves only
/// whole records behind.
pub struct WarcWriter<W: Write> {
    out: W,
    gzip: bool,
    counter: u64,
}

impl<W: Write> WarcWriter<W> {
    /// A writer on `out`.
    pub fn new(out: W, gzip: bool) -> Self {
        WarcWriter {
            out,
            gzip,
            counter: 0,
        }
    }

    /// Writes one record: `WARC-Type`, `WARC-Record-ID`, `WARC-Date`, the given fields, then
    /// `Content-Length` and the block. Returns the record id.
    pub fn write_record(
        &mut self,
        warc_type: &str,
        fields: &[(&str, &str)],
        block: &[u8],
    ) -> io::Result<String> {
        self.counter += 1;
        let seed = self.counter.to_string();
        let (id, bytes) = encode_record(warc_type, &seed, fields, block, self.gzip)?;
        self.write_encoded(&bytes)?;
        Ok(id)
    }

    /// Writes a record made by [`encode_record`] (which may run outside a lock) in one call.
    pub fn write_encoded(&mut self, record: &[u8]) -> io::Result<()> {
        self.out.write_all(record)?;
        self.out.flush()
    }

    /// Writes a `warcinfo` record naming the file and the software.
    pub fn write_warcinfo(
        &mut self,
        filename: &str,
        fields: &[(&str, &str)],
    ) -> io::Result<String> {
        let mut block = String::new();
        for (name, value) in fields {
            block.push_str(&format!("{name}: {value}\r\n"));
        }
        self.write_record(
            "warcinfo",
            &[
                ("WARC-Filename", filename),
                ("Content-Type", "application/warc-fields"),
            ],
            block.as_bytes(),
        )
    }

    /// Writes a `response` record for `target_uri` whose block is the HTTP message built by
    /// [`http_response_block`].
    pub fn write_response(
        &mut self,
        target_uri: &str,
        http_block: &[u8],
        warcinfo_id: Option<&str>,
    ) -> io::Result<String> {
        let mut fields = vec![
            ("WARC-Target-URI", target_uri),
            ("Content-Type", "application/http; msgtype=response"),
        ];
        if let Some(id) = warcinfo_id {
            fields.push(("WARC-Warcinfo-ID", id));
        }
        self.write_record("response", &fields, http_block)
    }

    /// The underlying writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

/// One record as bytes, a gzip member of its own when `gzip`: the version line, `WARC-Type`,
/// `WARC-Record-ID` (a fresh id; `seed` adds entropy), `WARC-Date` (now), `fields`,
/// `Content-Length`, the block and the closing blank lines. Returns the record id and the bytes.
pub fn encode_record(
    warc_type: &str,
    seed: &str,
    fields: &[(&str, &str)],
    block: &[u8],
    gzip: bool,
) -> io::Result<(String, Vec<u8>)> {
    let id = record_id(&format!("{warc_type}{seed}"));
    let date = format_date(SystemTime::now());
    let mut head = String::with_capacity(512);
    head.push_str("WARC/1.0\r\n");
    for (name, value) in [
        ("WARC-Type", warc_type),
        ("WARC-Record-ID", id.as_str()),
        ("WARC-Date", date.as_str()),
    ]
    .into_iter()
    .chain(fields.iter().copied())
    {
        // Header values cannot hold line breaks.
        let value: String = value
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        head.push_str(name);
        head.push_str(": ");
        head.push_str(&value);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", block.len()));
    let mut record = Vec::with_capacity(head.len() + block.len() + 4);
    record.extend_from_slice(head.as_bytes());
    record.extend_from_slice(block);
    record.extend_from_slice(b"\r\n\r\n");
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(
            Vec::with_capacity(record.len() / 3 + 64),
            flate2::Compression::default(),
        );
        enc.write_all(&record)?;
        record = enc.finish()?;
    }
    Ok((id, record))
}

/// The HTTP message of a `response` record: the status line, the headers without
/// `Content-Encoding`, `Transfer-Encoding` and `Content-Length` (the stored body is decoded), a
/// `Content-Length` of the body, and the body.
pub fn http_response_block(status: u16, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let reason = reason_phrase(status);
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        if ["content-encoding", "transfer-encoding", "content-length"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        let value: String = value
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut block = head.into_bytes();
    block.extend_from_slice(body);
    block
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        410 => "Gone",
        _ => "",
    }
}

/// A `<urn:uuid:…>` record id: a version-4-shaped UUID from a randomly keyed hash of `seed`, the
/// time, the process id and a counter (no random-number crate needed).
pub fn record_id(seed: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut halves = [0u64; 2];
    for (i, half) in halves.iter_mut().enumerate() {
        // RandomState is keyed randomly per process (and per instance).
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write(seed.as_bytes());
        h.write_u128(nanos);
        h.write_u64(n);
        h.write_u32(std::process::id());
        h.write_usize(i);
        *half = h.finish();
    }
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&halves[0].to_be_bytes());
    b[8..].copy_from_slice(&halves[1].to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A `WARC-Date`: ISO 8601 UTC to the second (`2024-05-01T12:00:00Z`).
pub fn format_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, uri: &str, block: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n",
            block.len()
        )
        .into_bytes();
        r.extend_from_slice(block);
        r.extend_from_slice(b"\r\n\r\n");
        r
    }

    fn http(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
        let mut b = format!("HTTP/1.1 {status}\r\n{headers}\r\n").into_bytes();
        b.extend_from_slice(body);
        b
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> Vec<Result<Record, RecordError>> {
        WarcReader::new(bytes).unwrap().collect()
    }

    fn uris(results: &[Result<Record, RecordError>]) -> Vec<String> {
        results
            .iter()
            .map(|r| match r {
                Ok(r) => r.headers.target_uri().unwrap_or("-").to_string(),
                Err(e) => format!("error@{}", e.offset),
            })
            .collect()
    }

    #[test]
    fn record_boundaries_in_a_plain_file() {
        let mut file = record("response", "http://a/1", b"one");
        let second = file.len();
        file.extend(record("request", "<http://a/2>", b"GET / HTTP/1.1\r\n\r\n"));
        file.extend(record("response", "http://a/3", b""));
        let recs = read_all(&file);
        assert_eq!(uris(&recs), ["http://a/1", "http://a/2", "http://a/3"]);
        let r = recs[1].as_ref().unwrap();
        assert_eq!(r.offset, second as u64);
        assert_eq!(r.headers.warc_type(), "request");
        assert_eq!(r.block.as_deref(), Some(&b"GET / HTTP/1.1\r\n\r\n"[..]));
        assert_eq!(r.version, "1.0");
    }

    #[test]
    fn gzip_members_give_member_offsets() {
        let a = gz(&record("response", "http://a/1", b"one"));
        let b = gz(&record("response", "http://a/2", b"two"));
        let c = gz(&record("metadata", "http://a/3", b"three"));
        let file = [a.clone(), b.clone(), c].concat();
        let recs = read_all(&file);
        assert_eq!(uris(&recs), ["http://a/1", "http://a/2", "http://a/3"]);
        let offsets: Vec<u64> = recs.iter().map(|r| r.as_ref().unwrap().offset).collect();
        assert_eq!(offsets, [0, a.len() as u64, (a.len() + b.len()) as u64]);
        assert!(WarcReader::new(&file[..]).unwrap().is_gzip());
    }

    #[test]
    fn whole_file_gzip_and_records_spanning_members() {
        let plain = [
            record("response", "http://a/1", b"one"),
            record("response", "http://a/2", b"two"),
        ]
        .concat();
        assert_eq!(uris(&read_all(&gz(&plain))), ["http://a/1", "http://a/2"]);
        // One record split over two members still reads.
        let split = [gz(&plain[..20]), gz(&plain[20..])].concat();
        assert_eq!(uris(&read_all(&split)), ["http://a/1", "http://a/2"]);
    }

    #[test]
    fn corrupt_gzip_member_resyncs_at_next_member() {
        let a = gz(&record("response", "http://a/1", &[b'x'; 5000]));
        let mut b = gz(&record("response", "http://a/2", &[b'y'; 5000]));
        let c = gz(&record("response", "http://a/3", b"three"));
        let len = b.len();
        // Damage the deflate data in the middle of the second member.
        for byte in &mut b[20..len - 10] {
            *byte ^= 0x5a;
        }
        let file = [a.clone(), b, c].concat();
        let recs = read_all(&file);
        assert_eq!(
            uris(&recs),
            ["http://a/1", &format!("error@{}", a.len()), "http://a/3"]
        );
        let err = recs[1].as_ref().unwrap_err();
        assert!(matches!(err.error, WarcError::Gzip { member, .. } if member == a.len() as u64));
        assert!(
            err.to_string()
                .starts_with(&format!("record in the gzip member at byte {}", a.len())),
            "{err}"
        );
    }

    #[test]
    fn truncated_gzip_file_reports_the_last_member() {
        let a = gz(&record("response", "http://a/1", b"one"));
        let b = gz(&record("response", "http://a/2", &[b'z'; 3000]));
        let file = [a.clone(), b[..b.len() / 2].to_vec()].concat();
        let recs = read_all(&file);
        assert_eq!(uris(&recs), ["http://a/1", &format!("error@{}", a.len())]);
    }

    #[test]
    fn garbage_between_members_is_skipped() {
        let a = gz(&record("response", "http://a/1", b"one"));
        let b = gz(&record("response", "http://a/2", b"two"));
        let file = [a.clone(), b"garbage!".to_vec(), b].concat();
        let recs = read_all(&file);
        assert_eq!(
            uris(&recs),
            ["http://a/1", &format!("error@{}", a.len()), "http://a/2"]
        );
    }

    #[test]
    fn plain_file_resyncs_after_a_bad_header_and_wrong_lengths() {
        let one = record("response", "http://a/1", b"one");
        let mut bad = record("response", "http://a/2", b"two");
        // A header line without a colon.
        bad.splice(10..10, b"not a header\r\n".iter().copied());
        let three = record("response", "http://a/3", b"three");
        // Content-Length too short by 2.
        let short = String::from_utf8(record("response", "http://a/4", b"four4"))
            .unwrap()
            .replace("Content-Length: 5", "Content-Length: 3")
            .into_bytes();
        let five = record("response", "http://a/5", b"five");
        // Content-Length too long: swallows the next record.
        let long = String::from_utf8(record("response", "http://a/6", b"six"))
            .unwrap()
            .replace("Content-Length: 3", "Content-Length: 40")
            .into_bytes();
        let seven = record("response", "http://a/7", &[b'7'; 100]);
        let file = [
            one.clone(),
            bad.clone(),
            three.clone(),
            short.clone(),
            five.clone(),
            long.clone(),
            seven,
        ]
        .concat();
        let recs = read_all(&file);
        let at_bad = one.len();
        let at_short = at_bad + bad.len() + three.len();
        let at_long = at_short + short.len() + five.len();
        assert_eq!(
            uris(&recs),
            [
                "http://a/1".to_string(),
                format!("error@{at_bad}"),
                "http://a/3".into(),
                format!("error@{at_short}"),
                "http://a/5".into(),
                format!("error@{at_long}"),
                "http://a/7".into(),
            ]
        );
        assert!(matches!(
            recs[1].as_ref().unwrap_err().error,
            WarcError::HeaderLine(_)
        ));
        assert!(matches!(
            recs[3].as_ref().unwrap_err().error,
            WarcError::Trailer { length: 3 }
        ));
    }

    #[test]
    fn truncated_plain_file() {
        let one = record("response", "http://a/1", b"one");
        let two = record("response", "http://a/2", &[b'2'; 100]);
        let file = [one.clone(), two[..two.len() - 50].to_vec()].concat();
        let recs = read_all(&file);
        assert_eq!(
            uris(&recs),
            ["http://a/1".to_string(), format!("error@{}", one.len())]
        );
        assert!(matches!(
            recs[1].as_ref().unwrap_err().error,
            WarcError::Truncated {
                length: 100,
                missing: 46
            }
        ));
        let cut_header = [one.clone(), two[..30].to_vec()].concat();
        let recs = read_all(&cut_header);
        assert!(matches!(
            recs[1].as_ref().unwrap_err().error,
            WarcError::TruncatedHeader
        ));
    }

    #[test]
    fn not_a_warc_file_and_bad_versions() {
        let recs = read_all(b"<html>hello</html>\n");
        assert_eq!(recs.len(), 1);
        assert!(matches!(
            recs[0].as_ref().unwrap_err().error,
            WarcError::NotWarc
        ));
        let v2 = String::from_utf8(record("response", "http://a/1", b"x"))
            .unwrap()
            .replace("WARC/1.0", "WARC/2.0");
        let recs = read_all(v2.as_bytes());
        assert!(matches!(
            recs[0].as_ref().unwrap_err().error,
            WarcError::Version(_)
        ));
        assert!(read_all(b"").is_empty());
    }

    #[test]
    fn header_parsing_folds_and_ignores_case() {
        let text = "WARC/1.1\r\nwarc-type: Response\r\nWARC-Target-URI: <http://a/x?y=1>\r\nX-Long: a\r\n  b\r\ncontent-length: 0\r\n\r\n\r\n\r\n";
        let recs = read_all(text.as_bytes());
        let r = recs[0].as_ref().unwrap();
        assert_eq!(r.version, "1.1");
        assert_eq!(r.headers.warc_type(), "response");
        assert_eq!(r.headers.target_uri(), Some("http://a/x?y=1"));
        assert_eq!(r.headers.get("x-long"), Some("a b"));
        assert_eq!(r.content_length, 0);
    }

    #[test]
    fn large_or_unwanted_blocks_are_skipped_unread() {
        let file = [
            record("response", "http://a/1", &[b'a'; 1000]),
            record("request", "http://a/2", b"GET"),
            record("response", "http://a/3", b"small"),
        ]
        .concat();
        let mut reader = WarcReader::new(&file[..]).unwrap().max_block(100);
        let blocks: Vec<Option<Vec<u8>>> =
            std::iter::from_fn(|| reader.next_record_with(wants_block))
                .map(|r| r.unwrap().block)
                .collect();
        assert_eq!(blocks, [None, None, Some(b"small".to_vec())]);
    }

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

    #[test]
    fn writer_output_reads_back_plain_and_gzip() {
        for gzip in [false, true] {
            let mut w = WarcWriter::new(Vec::new(), gzip);
            let info = w
                .write_warcinfo("x.warc", &[("software", "affcheck")])
                .unwrap();
            let block = http_response_block(
                200,
                &[
                    ("Content-Type".into(), "text/html".into()),
                    ("Content-Encoding".into(), "gzip".into()),
                    ("Content-Length".into(), "9".into()),
                ],
                b"<p>hi</p>",
            );
            w.write_response("https://s.example/", &block, Some(&info))
                .unwrap();
            let bytes = std::mem::take(w.get_mut());
            let recs: Vec<Record> = read_all(&bytes).into_iter().map(Result::unwrap).collect();
            assert_eq!(recs.len(), 2);
            assert_eq!(recs[0].headers.warc_type(), "warcinfo");
            assert_eq!(recs[1].headers.get("WARC-Warcinfo-ID"), Some(info.as_str()));
            let doc = response_document(recs[1].clone(), 1000).unwrap();
            assert_eq!(doc.bytes, b"<p>hi</p>");
            let text = String::from_utf8_lossy(recs[1].block.as_ref().unwrap()).to_string();
            assert!(
                !text.contains("gzip") && text.contains("Content-Length: 9\r\n"),
                "{text}"
            );
        }
    }

    #[test]
    fn ids_and_dates() {
        let a = record_id("x");
        let b = record_id("x");
        assert_ne!(a, b);
        assert_eq!(a.len(), "<urn:uuid:>".len() + 36);
        assert_eq!(&a[24..25], "4");
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
        assert_eq!(format_date(t), "1994-11-06T08:49:37Z");
        assert_eq!(format_date(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
