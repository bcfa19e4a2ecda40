//! Why a record could not be read, and where it starts.

use std::io;

use super::gzip::GzipCorrupt;

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
    /// The header block does not end within [`MAX_HEADER_BYTES`](super::MAX_HEADER_BYTES).
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

/// A read error as a [`WarcError`]: gzip damage reported by the member decoder, or I/O.
pub(super) fn classify_io(e: io::Error) -> WarcError {
    if let Some(g) = e.get_ref().and_then(|g| g.downcast_ref::<GzipCorrupt>()) {
        return WarcError::Gzip {
            member: g.member,
            cause: g.cause.clone(),
        };
    }
    WarcError::Io(e)
}
