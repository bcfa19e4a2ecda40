//! The byte streams under the record reader: [`Decoded`], the plain or gunzipped stream over a
//! [`RawBuf`]; and [`Bytes`], the cursor over the decoded bytes that the framing code looks ahead
//! in.

use std::io::{self, Read};

use super::READ_BUFFER;
use super::gzip::{GzMembers, GzipCorrupt};
use super::raw::RawBuf;

/// The decompressed stream of a plain or gzip file.
pub(super) enum Decoded<R: Read> {
    /// A plain `.warc`.
    Plain(RawBuf<R>),
    /// A `.warc.gz`.
    Gzip(GzMembers<R>),
}

impl<R: Read> Decoded<R> {
    /// Offset in the file of decompressed offset `at`: itself, or the start of its gzip member.
    pub(super) fn container_offset(&mut self, at: u64) -> u64 {
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

/// The decompressed bytes, buffered, with their stream offset.
pub(super) struct Bytes<R: Read> {
    pub(super) src: Decoded<R>,
    buf: Vec<u8>,
    pub(super) pos: usize,
    pub(super) end: usize,
    /// Decompressed offset of `buf[pos]`.
    pub(super) offset: u64,
    /// An error met while looking ahead, returned by the next `more`.
    pub(super) pending: Option<io::Error>,
    /// Decompressed offset where the last damaged gzip member began.
    pub(super) damaged_at: u64,
}

impl<R: Read> Bytes<R> {
    /// A cursor at the start of `src`.
    pub(super) fn new(src: Decoded<R>) -> Self {
        Bytes {
            src,
            buf: vec![0; READ_BUFFER],
            pos: 0,
            end: 0,
            offset: 0,
            pending: None,
            damaged_at: 0,
        }
    }

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

    pub(super) fn avail(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    pub(super) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        self.pos += n;
        self.offset += n as u64;
    }

    /// Reads more at the end of the buffer; `Ok(false)` at the end of the input.
    pub(super) fn more(&mut self) -> io::Result<bool> {
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
    pub(super) fn peek_to(&mut self, n: usize) {
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
    pub(super) fn take(&mut self, n: u64) -> io::Result<Vec<u8>> {
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
    pub(super) fn skip(&mut self, n: u64) -> io::Result<u64> {
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
    pub(super) fn unread(&mut self, data: &[u8]) {
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
