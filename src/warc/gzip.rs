//! Gzip members decoded one after the other, each remembered at its offsets in both the compressed
//! and the decompressed stream, and the resync to the next member after damage.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, Read};

use super::GZIP_MAGIC;
use super::raw::RawBuf;

/// A gzip error carried through `io::Error` from the member decoder to the record parser.
#[derive(Debug)]
pub(super) struct GzipCorrupt {
    /// Compressed offset of the member.
    pub(super) member: u64,
    /// Decompressed offset where the member's output began (its partial output is dropped).
    pub(super) start: u64,
    /// What the decompressor said.
    pub(super) cause: String,
}

impl fmt::Display for GzipCorrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gzip member at byte {}: {}", self.member, self.cause)
    }
}

impl std::error::Error for GzipCorrupt {}

enum GzState<R: Read> {
    /// Between members: the next byte starts a member (or the input ends).
    Between(RawBuf<R>),
    /// Inside a member.
    Member(Box<flate2::bufread::GzDecoder<RawBuf<R>>>),
    /// Only while switching states.
    Gone,
}

/// Decodes gzip members one after the other, remembering where each starts in both streams.
pub(super) struct GzMembers<R: Read> {
    state: GzState<R>,
    /// Decompressed bytes produced so far.
    produced: u64,
    /// (decompressed offset, compressed offset) of the members that may still hold unread records.
    members: VecDeque<(u64, u64)>,
}

impl<R: Read> GzMembers<R> {
    pub(super) fn new(raw: RawBuf<R>) -> Self {
        GzMembers {
            state: GzState::Between(raw),
            produced: 0,
            members: VecDeque::new(),
        }
    }

    /// Compressed offset of the member holding decompressed offset `at`. Queries must not go back
    /// before an earlier query's member.
    pub(super) fn member_at(&mut self, at: u64) -> u64 {
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

#[cfg(test)]
mod tests {
    use crate::warc::testutil::*;
    use crate::warc::{WarcError, WarcReader};

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
}
