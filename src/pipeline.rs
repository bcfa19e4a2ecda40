//! Runs the stages over many pages on all cores while keeping the output in input order.
//!
//! One thread expands targets into sources, worker threads read, parse and audit, and the calling
//! thread receives the events in source order. Channels are bounded, so at most a few pages per worker
//! are in memory at once, however large the folder.

use std::collections::BTreeMap;

use crossbeam_channel::bounded;

use std::io;

use crate::audit::Auditor;
use crate::document::Skip;
use crate::input::{InputError, Reader, Source};
use crate::sink::{Event, Failure, NotAudited, Sink};

/// The event for a document that is not HTML.
pub fn not_audited(page: String, reason: &Skip) -> Event {
    Event::NotAudited(NotAudited {
        page,
        reason: reason.to_string(),
        key: reason.key().to_string(),
        skipped: true,
    })
}

/// The event for a source that could not be read.
pub fn failed(err: &InputError) -> Event {
    Event::Failed(Failure {
        target: err.target().to_string(),
        message: err.to_string(),
        status: err.status(),
        attempts: 1,
    })
}

/// Reads and audits every source with `threads` workers, handing the events to `sink` in the
/// order of `sources`. URL sources are audited with their cloaked links resolved (see
/// [`Reader::read_url`]). Stops feeding the sink at its first error, and returns it.
pub fn run<I>(
    sources: I,
    reader: &Reader,
    auditor: &Auditor,
    threads: usize,
    sink: &mut dyn Sink,
) -> io::Result<()>
where
    I: Iterator<Item = Result<Source, InputError>> + Send,
{
    let threads = threads.max(1);
    let mut result = Ok(());
    ordered_map(
        sources,
        threads,
        threads * 2,
        |source| match source {
            Err(err) => failed(&err),
            Ok(Source::Url(url)) => match reader.read_url(&url, auditor) {
                Ok(Ok(report)) => Event::Audited(report),
                Ok(Err((page, reason))) => not_audited(page, &reason),
                Err(err) => failed(&err),
            },
            Ok(source) => match reader.read(&source) {
                Err(err) => failed(&err),
                Ok(doc) => match auditor.audit(&doc) {
                    Ok(report) => Event::Audited(report),
                    Err(reason) => not_audited(doc.display.clone(), &reason),
                },
            },
        },
        |event| {
            if result.is_ok() {
                result = sink.event(event);
            }
        },
    );
    result
}

/// Runs `work` on every job with `threads` worker threads while one thread drains `jobs`, and
/// hands the results to `on_output` on the calling thread in the order of `jobs`. At most `queue`
/// jobs wait on each side, so memory stays bounded however many jobs there are. Every input of
/// affcheck (folders, URLs, WARC archives) is audited through this.
pub fn ordered_map<J, O>(
    jobs: impl Iterator<Item = J> + Send,
    threads: usize,
    queue: usize,
    work: impl Fn(J) -> O + Sync,
    mut on_output: impl FnMut(O),
) where
    J: Send,
    O: Send,
{
    let (job_tx, job_rx) = bounded::<(usize, J)>(queue.max(1));
    let (out_tx, out_rx) = bounded::<(usize, O)>(queue.max(1));
    let work = &work;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for (seq, job) in jobs.enumerate() {
                if job_tx.send((seq, job)).is_err() {
                    break;
                }
            }
        });
        for _ in 0..threads.max(1) {
            let job_rx = job_rx.clone();
            let out_tx = out_tx.clone();
            scope.spawn(move || {
                for (seq, job) in job_rx {
                    if out_tx.send((seq, work(job))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(out_tx);
        drop(job_rx);
        // Reorder: hold early arrivals until their predecessors are done.
        let mut next = 0;
        let mut pending = BTreeMap::new();
        for (seq, output) in out_rx {
            pending.insert(seq, output);
            while let Some(output) = pending.remove(&next) {
                on_output(output);
                next += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::AuditOptions;
    use crate::input::{Target, sources};
    use crate::rules::Ruleset;

    #[test]
    fn outcomes_arrive_in_source_order_with_errors_in_place() {
        let dir = std::env::temp_dir().join(format!("affcheck-pipeline-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..40 {
            let body =
                format!("<p><a href=\"https://www.amazon.com/dp/B{i}?tag=x-20\">{i}</a></p>");
            std::fs::write(dir.join(format!("p{i:02}.html")), body).unwrap();
        }
        std::fs::write(dir.join("z.html"), b"\x89PNG\0\0\0\0").unwrap();
        let targets = vec![
            Target::Path(dir.clone()),
            Target::Path(dir.join("missing.html")),
        ];
        let auditor = Auditor::new(Ruleset::defaults().unwrap(), AuditOptions::default());
        let reader = Reader::new(std::time::Duration::from_secs(5), 1 << 20);
        struct Seen(Vec<String>);
        impl Sink for Seen {
            fn event(&mut self, e: Event) -> io::Result<()> {
                self.0.push(match e {
                    Event::Audited(r) => r.links[0].link_text.to_string(),
                    Event::NotAudited(_) => "skipped".into(),
                    Event::Failed(_) => "failed".into(),
                    Event::Progress(_) | Event::Note(_) => return Ok(()),
                });
                Ok(())
            }
        }
        let mut seen = Seen(Vec::new());
        run(sources(&targets, None), &reader, &auditor, 4, &mut seen).unwrap();
        let seen = seen.0;
        let mut expected: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        expected.push("skipped".into());
        expected.push("failed".into());
        assert_eq!(seen, expected);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
