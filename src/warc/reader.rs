//! Record framing: [`WarcReader`] finds each record, reads its header and block, checks the blank
//! lines after it, and after an error resyncs at the next record.

use std::io::{self, Read};

use super::buffer::{Bytes, Decoded};
use super::error::{RecordError, WarcError, classify_io};
use super::gzip::GzMembers;
use super::header::{Headers, find, header_end, parse_warc_header};
use super::raw::RawBuf;
use super::{GZIP_MAGIC, MAX_HEADER_BYTES};

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
            bytes: Bytes::new(src),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warc::testutil::*;
    use crate::warc::wants_block;

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
}
