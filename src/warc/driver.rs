//! Auditing whole files on all cores: [`run`], which turns records into the events of
//! [`crate::sink`].

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::HTTP_HEADER_ALLOWANCE;
use super::error::RecordError;
use super::reader::{Record, WarcReader};
use super::record::{NotAudited, response_document, wants_block};
use crate::audit::Auditor;
use crate::pipeline::ordered_map;
use crate::sink::{self, Event, Sink};

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
}

/// Counts of a run beyond what the sink sees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Records read (audited or not).
    pub records: usize,
    /// Records that could not be read.
    pub damaged: usize,
}

/// Reads every input in order (one thread decompresses and frames records) and audits each
/// `response` record with `options.threads` workers, handing the events to `sink` in input and
/// record order: an audited page, a record not audited (every other record, once; responses that
/// are not pages count as skipped, other record types only in the breakdown), a damaged record or
/// an unreadable file. Memory is bounded by a few records per worker, however large the files.
/// Stops feeding the sink at its first error, and returns it.
pub fn run(
    inputs: &[WarcInput],
    auditor: &Auditor,
    options: RunOptions,
    sink: &mut dyn Sink,
) -> io::Result<RunStats> {
    let threads = options.threads.max(1);
    let max_block = options.max_page_bytes.saturating_add(HTTP_HEADER_ALLOWANCE);
    // Counted where records are framed (the producer thread), not guessed from the events.
    let damaged_records = AtomicUsize::new(0);
    let damaged_records = &damaged_records;
    // Reading and decompressing happen on the pipeline's producer thread, record by record.
    let jobs = inputs
        .iter()
        .flat_map(move |input| -> Box<dyn Iterator<Item = Job> + Send> {
            let file = input.name();
            let mut reader = match input.open().and_then(WarcReader::new) {
                Ok(r) => r.max_block(max_block),
                Err(error) => {
                    return Box::new(std::iter::once(Job::Done(file_error(&file, &error))));
                }
            };
            Box::new(std::iter::from_fn(move || {
                let job = match reader.next_record_with(wants_block)? {
                    Ok(r) if wants_block(&r.headers) => Job::Record(r),
                    Ok(r) => Job::Done(not_audited(
                        r.headers.target_uri(),
                        NotAudited::RecordType(r.headers.warc_type()),
                    )),
                    Err(error) => {
                        damaged_records.fetch_add(1, Ordering::Relaxed);
                        Job::Done(damaged(&file, &error))
                    }
                };
                Some(job)
            }))
        });
    let mut stats = RunStats::default();
    let mut result = Ok(());
    ordered_map(
        jobs,
        threads,
        threads * 4,
        |job| match job {
            Job::Done(e) => e,
            Job::Record(record) => {
                let uri = record.headers.target_uri().map(str::to_string);
                match response_document(record, options.max_page_bytes) {
                    Ok(doc) => match auditor.audit(&doc) {
                        Ok(report) => Event::Audited(report),
                        Err(skip) => not_audited(uri.as_deref(), NotAudited::NotHtml(skip)),
                    },
                    Err(reason) => not_audited(uri.as_deref(), reason),
                }
            }
        },
        |event| {
            if matches!(event, Event::Audited(_) | Event::NotAudited(_)) {
                stats.records += 1;
            }
            if result.is_ok() {
                result = sink.event(event);
            }
        },
    );
    stats.damaged = damaged_records.load(Ordering::Relaxed);
    result.map(|()| stats)
}

/// What the reading thread hands the workers: a record to audit, or an event already decided.
enum Job {
    Record(Record),
    Done(Event),
}

fn not_audited(uri: Option<&str>, reason: NotAudited) -> Event {
    Event::NotAudited(sink::NotAudited {
        page: uri.unwrap_or_default().to_string(),
        key: reason.key(),
        reason: reason.to_string(),
        skipped: !matches!(reason, NotAudited::RecordType(_)),
    })
}

/// A damaged record.
fn damaged(file: &str, error: &RecordError) -> Event {
    let what = if error.is_fatal() {
        "the rest of the file is not read"
    } else {
        "skipped"
    };
    Event::Failed(sink::Failure {
        target: file.to_string(),
        message: format!("{file}: {error}; {what}"),
        status: None,
        attempts: 1,
    })
}

fn file_error(file: &str, error: &io::Error) -> Event {
    Event::Failed(sink::Failure {
        target: file.to_string(),
        message: match error.kind() {
            io::ErrorKind::NotFound => format!("{file}: no such file; check the path"),
            _ => format!("{file}: cannot read: {error}"),
        },
        status: None,
        attempts: 1,
    })
}
