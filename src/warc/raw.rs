//! [`RawBuf`]: the buffered reader over a WARC file that knows its offset and can step back within
//! its buffer (gzip member resync and plain-file framing both need that).

use std::io::{self, BufRead, Read};

use super::READ_BUFFER;

/// A buffered reader that counts consumed bytes and can make several bytes available at once.
pub(super) struct RawBuf<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Offset in the input of `buf[pos]`.
    pub(super) offset: u64,
}

impl<R: Read> RawBuf<R> {
    /// A buffer over `inner`, at offset 0.
    pub(super) fn new(inner: R) -> Self {
        RawBuf {
            inner,
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            pos: 0,
            end: 0,
            offset: 0,
        }
    }

    /// Makes at least `n` bytes available unless the input ends first.
    pub(super) fn fill_to(&mut self, n: usize) -> io::Result<&[u8]> {
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
    pub(super) fn rewind_to(&mut self, offset: u64) {
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
