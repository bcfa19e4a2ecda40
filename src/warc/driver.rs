//! Auditing whole files on all cores: [`run`] and what it reports.

use std::io::{self, Read};
use std::path::PathBuf;

use super::HTTP_HEADER_ALLOWANCE;
use super::error::RecordError;
use super::reader::{Record, WarcReader};
use super::record::{NotAudited, response_document, wants_block};
use crate::findings::{AuditOptions, PageReport};
use crate::pipeline::{audit_document, ordered_map};
use crate::rules::Ruleset;

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

/// What the reading thread hands the workers: a record to audit, or an event already decided.
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
