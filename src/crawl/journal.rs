//! The `--state` journal that makes a crawl resumable after any interruption, `kill -9` included.
//!
//! An append-only text file, one record per line:
//!
//! ```text
//! affcheck-state 2
//! Q <depth> <hops> <url>        URL admitted to the frontier
//! S <url> <event|->             sitemap read (or failed: the event) and its pages admitted
//! D <url> <key|-> <event|->     URL finished, with the event it produced (JSON) and, for an
//!                               audited page, its canonical key
//! E <event>                     an event of the run itself (robots.txt unreachable)
//! ```
//!
//! The journal hooks into the event stream: every event the crawl hands to the sink is recorded
//! here first, so the report files are not the state. On resume they are written afresh by
//! replaying the recorded events through the same sink chain, then the crawl goes on with the URLs
//! that were admitted but not finished. A page that was in flight is fetched again; none is
//! reported twice, and every format (`--format`, `--output-dir`, `--inventory`, `--errors`) comes
//! out as from an uninterrupted crawl.
//!
//! Each record is written whole with one `write` (admissions are buffered and go out in front of
//! the next finished URL), and a torn last line left by a crash is cut off when the journal is
//! opened, so the next record never lands on a fragment.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use url::Url;

use crate::sink::Event;

const MAGIC: &str = "affcheck-state 2";

/// What a previous run left behind.
#[derive(Debug, Default)]
pub struct Resumed {
    /// URLs admitted but not finished, in admission order: (url, depth, hops).
    pub pending: Vec<(Url, u32, u32)>,
    /// Every URL ever admitted.
    pub seen: HashSet<String>,
    /// Canonical keys of audited pages.
    pub audited_keys: HashSet<String>,
    /// Sitemaps already read.
    pub sitemaps_done: HashSet<String>,
    /// URLs finished in any way.
    pub finished: usize,
    /// Whether the journal held any record (a crawl to resume rather than a fresh one).
    pub any: bool,
}

/// Errors reading or writing the journal.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file exists but is not an affcheck journal of this version.
    #[error(
        "{path}: not an affcheck state file of this version; remove it (the crawl starts over) or name another file with --state"
    )]
    NotAJournal {
        /// The file.
        path: PathBuf,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The open journal.
pub struct Journal {
    out: File,
    path: PathBuf,
    /// Admissions not yet written: they go out with the next finished URL, in one write.
    pending: String,
}

impl Journal {
    /// Opens `path`: reads what an earlier run recorded, handing each recorded event to `replay`
    /// in order, and cuts off a torn last line.
    pub fn open(
        path: &Path,
        mut replay: impl FnMut(Event) -> io::Result<()>,
    ) -> Result<(Journal, Resumed), StateError> {
        let io_err = |source| StateError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut resumed = Resumed::default();
        let mut complete_len = 0u64;
        let mut fresh = true;
        if let Ok(file) = File::open(path) {
            let mut reader = BufReader::new(file);
            let mut admitted: Vec<(Url, u32, u32)> = Vec::new();
            let mut done: HashSet<String> = HashSet::new();
            let mut line = Vec::new();
            let mut first = true;
            loop {
                line.clear();
                let n = reader.read_until(b'\n', &mut line).map_err(io_err)?;
                // No newline: the end of the file, or a line torn by a crash mid-write.
                if n == 0 || line.last() != Some(&b'\n') {
                    break;
                }
                complete_len += n as u64;
                let text = String::from_utf8_lossy(&line[..n - 1]);
                if first {
                    first = false;
                    if text != MAGIC {
                        return Err(StateError::NotAJournal {
                            path: path.to_path_buf(),
                        });
                    }
                    fresh = false;
                    continue;
                }
                resumed.any = true;
                let record = parse(&text);
                match record {
                    Some(Record::Queued(url, depth, hops)) => {
                        resumed.seen.insert(url.to_string());
                        admitted.push((url, depth, hops));
                    }
                    Some(Record::Sitemap(url, event)) => {
                        resumed.sitemaps_done.insert(url);
                        if let Some(e) = event {
                            replay(e).map_err(io_err)?;
                        }
                    }
                    Some(Record::Done(url, key, event)) => {
                        resumed.finished += 1;
                        if let Some(k) = key {
                            resumed.audited_keys.insert(k);
                        }
                        if let Some(e) = event {
                            replay(e).map_err(io_err)?;
                        }
                        done.insert(url);
                    }
                    Some(Record::Event(e)) => replay(e).map_err(io_err)?,
                    None => {}
                }
            }
            resumed.pending = admitted
                .into_iter()
                .filter(|(u, _, _)| !done.contains(u.as_str()))
                .collect();
        }
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io_err)?;
        if fresh {
            // An empty file, or one holding only a torn header: start it cleanly.
            out.set_len(0).map_err(io_err)?;
            out.write_all(format!("{MAGIC}\n").as_bytes())
                .map_err(io_err)?;
        } else if out.metadata().map_err(io_err)?.len() > complete_len {
            out.set_len(complete_len).map_err(io_err)?;
        }
        Ok((
            Journal {
                out,
                path: path.to_path_buf(),
                pending: String::new(),
            },
            resumed,
        ))
    }

    /// Records that `url` joined the frontier (written with the next finished URL).
    pub fn queued(&mut self, url: &Url, depth: u32, hops: u32) {
        use std::fmt::Write as _;
        let _ = writeln!(self.pending, "Q {depth} {hops} {url}");
    }

    /// Records that a sitemap is finished: its pages admitted, or `event` (its failure) produced.
    pub fn sitemap_done(&mut self, url: &Url, event: Option<&Event>) -> Result<(), StateError> {
        let event = self.json(event)?;
        self.write(format!("S {url} {event}\n"))
    }

    /// Records that `url` is finished: the event it produced, and its canonical key when it was
    /// audited. Call before the event reaches the sink.
    pub fn done(
        &mut self,
        url: &Url,
        key: Option<&str>,
        event: Option<&Event>,
    ) -> Result<(), StateError> {
        let event = self.json(event)?;
        self.write(format!("D {url} {} {event}\n", key.unwrap_or("-")))
    }

    /// Records an event of the run itself.
    pub fn event(&mut self, event: &Event) -> Result<(), StateError> {
        let event = serde_json::to_string(event).map_err(|e| self.err(e.into()))?;
        self.write(format!("E {event}\n"))
    }

    fn json(&self, event: Option<&Event>) -> Result<String, StateError> {
        match event {
            Some(e) => serde_json::to_string(e).map_err(|e| self.err(e.into())),
            None => Ok("-".into()),
        }
    }

    /// Writes the buffered admissions.
    pub fn flush(&mut self) -> Result<(), StateError> {
        self.write(String::new())
    }

    /// Appends the buffered admissions and `record` with a single write.
    fn write(&mut self, record: String) -> Result<(), StateError> {
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.push_str(&record);
        if bytes.is_empty() {
            return Ok(());
        }
        let r = self.out.write_all(bytes.as_bytes());
        r.map_err(|e| self.err(e))
    }

    fn err(&self, source: io::Error) -> StateError {
        StateError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

enum Record {
    Queued(Url, u32, u32),
    Sitemap(String, Option<Event>),
    Done(String, Option<String>, Option<Event>),
    Event(Event),
}

/// One line, or `None` when it is not a record this version wrote.
fn parse(line: &str) -> Option<Record> {
    let (tag, rest) = line.split_once(' ')?;
    match tag {
        "Q" => {
            let mut f = rest.splitn(3, ' ');
            let depth = f.next()?.parse().ok()?;
            let hops = f.next()?.parse().ok()?;
            let url = Url::parse(f.next()?).ok()?;
            Some(Record::Queued(url, depth, hops))
        }
        "S" => {
            let (url, event) = rest.split_once(' ')?;
            let event = match event {
                "-" => None,
                json => Some(serde_json::from_str(json).ok()?),
            };
            Some(Record::Sitemap(url.to_string(), event))
        }
        "D" => {
            let mut f = rest.splitn(3, ' ');
            let url = f.next()?.to_string();
            let key = f.next().filter(|k| *k != "-").map(str::to_string);
            let event = match f.next()? {
                "-" => None,
                json => Some(serde_json::from_str(json).ok()?),
            };
            Some(Record::Done(url, key, event))
        }
        "E" => Some(Record::Event(serde_json::from_str(rest).ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::{Failure, NotAudited};

    fn temp(name: &str) -> PathBuf {
        let p =
            std::env::temp_dir().join(format!("affcheck-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn failed(url: &str) -> Event {
        Event::Failed(Failure {
            target: url.into(),
            message: "HTTP 500".into(),
            status: Some(500),
            attempts: 4,
        })
    }

    fn open(p: &Path) -> (Journal, Resumed, Vec<Event>) {
        let mut events = Vec::new();
        let (j, r) = Journal::open(p, |e| {
            events.push(e);
            Ok(())
        })
        .unwrap();
        (j, r, events)
    }

    #[test]
    fn resume_returns_unfinished_urls_in_order_and_replays_events() {
        let p = temp("resume");
        {
            let (mut j, r, events) = open(&p);
            assert!(!r.any && r.pending.is_empty() && events.is_empty());
            j.queued(&u("http://e.com/"), 0, 0);
            j.queued(&u("http://e.com/a"), 1, 0);
            j.queued(&u("http://e.com/b"), 1, 0);
            j.done(
                &u("http://e.com/"),
                Some("http://e.com/"),
                Some(&failed("http://e.com/")),
            )
            .unwrap();
        }
        let (_, r, events) = open(&p);
        let pending: Vec<&str> = r.pending.iter().map(|(u, _, _)| u.as_str()).collect();
        assert_eq!(pending, ["http://e.com/a", "http://e.com/b"]);
        assert!(r.audited_keys.contains("http://e.com/"));
        assert_eq!((r.seen.len(), r.finished), (3, 1));
        assert_eq!(events.len(), 1);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_torn_last_line_is_cut_off_so_the_next_record_is_whole() {
        let p = temp("torn");
        {
            let (mut j, _, _) = open(&p);
            j.queued(&u("http://e.com/a"), 0, 0);
            j.done(&u("http://e.com/a"), None, None).unwrap();
        }
        let good = std::fs::metadata(&p).unwrap().len();
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"D http://e.com/b - {\"event\":\"fai").unwrap();
        drop(f);
        {
            let (mut j, r, _) = open(&p);
            assert_eq!(r.finished, 1);
            assert_eq!(std::fs::metadata(&p).unwrap().len(), good);
            j.queued(&u("http://e.com/c"), 1, 0);
            let skip = Event::NotAudited(NotAudited {
                page: "http://e.com/c".into(),
                reason: "redirect".into(),
                key: "redirects".into(),
                skipped: false,
            });
            j.done(&u("http://e.com/c"), None, Some(&skip)).unwrap();
        }
        let (_, r, events) = open(&p);
        assert_eq!((r.finished, events.len()), (2, 1));
        assert!(r.pending.is_empty());
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let p = temp("foreign");
        std::fs::write(&p, "page_url,rule\n").unwrap();
        assert!(matches!(
            Journal::open(&p, |_| Ok(())),
            Err(StateError::NotAJournal { .. })
        ));
        std::fs::write(&p, "affcheck-state 1\nQ 0 0 http://e.com/\n").unwrap();
        assert!(matches!(
            Journal::open(&p, |_| Ok(())),
            Err(StateError::NotAJournal { .. })
        ));
        std::fs::remove_file(&p).unwrap();
    }
}

/// Properties of the journal over generated runs: whatever a crawl wrote and wherever a kill cut
/// the file, reopening replays each whole record once, and a resumed run's records add to them.
#[cfg(test)]
mod properties {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use proptest::prelude::*;

    use crate::findings::PageReport;
    use crate::sink::{Failure, NotAudited, Progress};

    /// One call a crawl makes on the journal.
    #[derive(Debug, Clone)]
    enum Op {
        Queued(Url, u32, u32),
        Sitemap(Url, Option<Event>),
        Done(Url, Option<String>, Option<Event>),
        Event(Event),
        Flush,
    }

    /// A fresh file name in the temp folder, for one generated case.
    fn temp() -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p =
            std::env::temp_dir().join(format!("affcheck-journal-prop-{}-{n}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    /// URLs from a small pool, so that the same URL is queued and finished more than once, and
    /// now and then any path at all.
    fn url() -> impl Strategy<Value = Url> {
        prop_oneof![
            4 => (0..6u8).prop_map(|i| format!("http://e.com/p/{i}")),
            1 => "\\PC{0,12}".prop_map(|p| format!("https://www.e.com/{p}")),
        ]
        .prop_map(|s| Url::parse(&s).expect("an http URL"))
    }

    /// Free text, line breaks and quotes included: it goes into the JSON of an event.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,20}",
            prop::collection::vec(
                prop_oneof![
                    Just("\n"),
                    Just("\r\n"),
                    Just("\""),
                    Just("\\"),
                    Just("\u{2028}"),
                    Just(" - "),
                    Just("D "),
                ],
                0..6
            )
            .prop_map(|v| v.concat()),
        ]
    }

    /// Every kind of event a crawl records (notes go to the console only, never to the journal).
    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            (url(), text(), prop::option::of(any::<u16>()), any::<u32>()).prop_map(
                |(u, message, status, attempts)| Event::Failed(Failure {
                    target: u.to_string(),
                    message,
                    status,
                    attempts,
                })
            ),
            (url(), text(), text(), any::<bool>()).prop_map(|(u, reason, key, skipped)| {
                Event::NotAudited(NotAudited {
                    page: u.to_string(),
                    reason,
                    key,
                    skipped,
                })
            }),
            url().prop_map(|u| Event::Audited(PageReport {
                page_url: u.to_string(),
                findings: Vec::new(),
                links: Vec::new(),
            })),
            (any::<usize>(), any::<usize>(), any::<u64>()).prop_map(|(pages, done, ms)| {
                Event::Progress(Progress {
                    pages,
                    done,
                    queued: 0,
                    errors: 0,
                    elapsed_ms: ms,
                })
            }),
        ]
    }

    /// One journal call; admissions are the most common, as in a crawl.
    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (url(), 0..5u32, 0..3u32).prop_map(|(u, d, h)| Op::Queued(u, d, h)),
            1 => (url(), prop::option::of(event())).prop_map(|(u, e)| Op::Sitemap(u, e)),
            4 => (url(), prop::option::of(url()), prop::option::of(event()))
                .prop_map(|(u, k, e)| Op::Done(u, k.map(|k| k.to_string()), e)),
            1 => event().prop_map(Op::Event),
            1 => Just(Op::Flush),
        ]
    }

    /// Makes the calls of `ops` on the journal.
    fn write(journal: &mut Journal, ops: &[Op]) {
        for op in ops {
            match op {
                Op::Queued(u, d, h) => journal.queued(u, *d, *h),
                Op::Sitemap(u, e) => journal.sitemap_done(u, e.as_ref()).expect("write"),
                Op::Done(u, k, e) => journal.done(u, k.as_deref(), e.as_ref()).expect("write"),
                Op::Event(e) => journal.event(e).expect("write"),
                Op::Flush => journal.flush().expect("write"),
            }
        }
    }

    /// The records `ops` put in the file, in file order: admissions go out with the next write,
    /// so those after the last one are not written; a flush is no record of its own.
    fn records(ops: &[Op]) -> Vec<Op> {
        let last_write = ops.iter().rposition(|o| !matches!(o, Op::Queued(..)));
        ops[..last_write.map_or(0, |i| i + 1)]
            .iter()
            .filter(|o| !matches!(o, Op::Flush))
            .cloned()
            .collect()
    }

    /// What opening a journal shows, in comparable form.
    #[derive(Debug, PartialEq)]
    struct State {
        pending: Vec<(String, u32, u32)>,
        seen: BTreeSet<String>,
        audited_keys: BTreeSet<String>,
        sitemaps_done: BTreeSet<String>,
        finished: usize,
        any: bool,
        /// Replayed events as JSON, in order.
        events: Vec<serde_json::Value>,
    }

    /// An event as JSON (events have no `PartialEq`).
    fn json(e: &Event) -> serde_json::Value {
        serde_json::to_value(e).expect("an event serializes")
    }

    /// The state that replaying exactly `records`, each once, must give (the spec of `open`).
    fn expected(records: &[Op]) -> State {
        let mut admitted = Vec::new();
        let mut done = HashSet::new();
        let mut s = State {
            pending: Vec::new(),
            seen: BTreeSet::new(),
            audited_keys: BTreeSet::new(),
            sitemaps_done: BTreeSet::new(),
            finished: 0,
            any: !records.is_empty(),
            events: Vec::new(),
        };
        for r in records {
            match r {
                Op::Queued(u, d, h) => {
                    s.seen.insert(u.to_string());
                    admitted.push((u.to_string(), *d, *h));
                }
                Op::Sitemap(u, e) => {
                    s.sitemaps_done.insert(u.to_string());
                    s.events.extend(e.iter().map(json));
                }
                Op::Done(u, k, e) => {
                    s.finished += 1;
                    s.audited_keys.extend(k.iter().cloned());
                    s.events.extend(e.iter().map(json));
                    done.insert(u.to_string());
                }
                Op::Event(e) => s.events.push(json(e)),
                Op::Flush => {}
            }
        }
        s.pending = admitted
            .into_iter()
            .filter(|(u, _, _)| !done.contains(u))
            .collect();
        s
    }

    /// Opens the journal at `path` and collects what it replays.
    fn open(path: &Path) -> (Journal, State) {
        let mut events = Vec::new();
        let (journal, r) = Journal::open(path, |e| {
            events.push(json(&e));
            Ok(())
        })
        .expect("the journal opens");
        let state = State {
            pending: r
                .pending
                .into_iter()
                .map(|(u, d, h)| (u.to_string(), d, h))
                .collect(),
            seen: r.seen.into_iter().collect(),
            audited_keys: r.audited_keys.into_iter().collect(),
            sitemaps_done: r.sitemaps_done.into_iter().collect(),
            finished: r.finished,
            any: r.any,
            events,
        };
        (journal, state)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn a_kill_at_any_byte_loses_only_the_torn_record_and_resuming_adds_the_rest(
            before in prop::collection::vec(op(), 0..24),
            after in prop::collection::vec(op(), 0..12),
            cut in any::<prop::sample::Index>(),
        ) {
            let path = temp();
            write(&mut open(&path).0, &before);
            let bytes = std::fs::read(&path).expect("read");
            let written = records(&before);
            let lines = bytes.iter().filter(|b| **b == b'\n').count();
            prop_assert_eq!(lines, 1 + written.len(), "one line per record, after the header");

            // A kill mid-write leaves the file cut anywhere.
            let cut = cut.index(bytes.len() + 1);
            std::fs::write(&path, &bytes[..cut]).expect("cut");
            let whole = bytes[..cut].iter().filter(|b| **b == b'\n').count();
            let survivors = &written[..whole.saturating_sub(1)];

            let (mut journal, state) = open(&path);
            prop_assert_eq!(&state, &expected(survivors));
            write(&mut journal, &after);
            drop(journal);

            let mut all = survivors.to_vec();
            all.extend(records(&after));
            let (journal, state) = open(&path);
            drop(journal);
            prop_assert_eq!(&state, &expected(&all));
            std::fs::remove_file(&path).expect("remove");
        }

        #[test]
        fn opening_twice_without_writing_replays_the_same(
            ops in prop::collection::vec(op(), 0..24),
            cut in any::<prop::sample::Index>(),
        ) {
            let path = temp();
            write(&mut open(&path).0, &ops);
            let bytes = std::fs::read(&path).expect("read");
            std::fs::write(&path, &bytes[..cut.index(bytes.len() + 1)]).expect("cut");
            let (journal, first) = open(&path);
            drop(journal);
            let repaired = std::fs::read(&path).expect("read");
            let (journal, second) = open(&path);
            drop(journal);
            prop_assert_eq!(first, second);
            prop_assert_eq!(std::fs::read(&path).expect("read"), repaired, "a second open changes nothing");
            std::fs::remove_file(&path).expect("remove");
        }
    }
}
