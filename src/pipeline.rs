//! Runs the stages over many pages on all cores while keeping the output in input order.
//!
//! One thread expands targets into sources, worker threads read, parse and audit, and the calling
//! thread receives outcomes in source order. Channels are bounded, so at most a few pages per worker
//! are in memory at once, however large the folder.

use std::collections::BTreeMap;

use crossbeam_channel::bounded;

use crate::document::{Document, Skip};
use crate::findings::{self, AuditOptions, PageReport};
use crate::input::{InputError, Reader, Source};
use crate::page;
use crate::rules::Ruleset;

/// What became of one source.
#[derive(Debug)]
pub enum Outcome {
    /// The page was audited.
    Audited(PageReport),
    /// The document was read but is not HTML.
    Skipped {
        /// The page as the report would show it.
        page: String,
        /// Why.
        reason: Skip,
    },
    /// The target or page could not be read.
    Failed(InputError),
}

/// Audits one document: the entry point for any input (files, fetched pages, crawls, archives).
pub fn audit_document(
    doc: &Document,
    rules: &Ruleset,
    opts: &AuditOptions,
) -> Result<PageReport, Skip> {
    doc.check_html()?;
    let page = page::parse(doc, rules);
    Ok(findings::audit(&page, rules, opts))
}

/// Reads and audits every source with `threads` workers, handing outcomes to `on_outcome` in the
/// order of `sources`.
pub fn run<I>(
    sources: I,
    reader: &Reader,
    rules: &Ruleset,
    opts: AuditOptions,
    threads: usize,
    on_outcome: impl FnMut(Outcome),
) where
    I: Iterator<Item = Result<Source, InputError>> + Send,
{
    let threads = threads.max(1);
    ordered_map(
        sources,
        threads,
        threads * 2,
        |source| match source.and_then(|s| reader.read(&s)) {
            Err(err) => Outcome::Failed(err),
            Ok(doc) => match audit_document(&doc, rules, &opts) {
                Ok(report) => Outcome::Audited(report),
                Err(reason) => Outcome::Skipped {
                    page: doc.display.clone(),
                    reason,
                },
            },
        },
        on_outcome,
    );
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
    use crate::input::{Target, sources};

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
        let rules = Ruleset::defaults().unwrap();
        let reader = Reader::new(std::time::Duration::from_secs(5), 1 << 20);
        let mut seen = Vec::new();
        run(
            sources(&targets, None),
            &reader,
            &rules,
            AuditOptions::default(),
            4,
            |o| {
                seen.push(match o {
                    Outcome::Audited(r) => r.links[0].link_text.clone(),
                    Outcome::Skipped { .. } => "skipped".into(),
                    Outcome::Failed(_) => "failed".into(),
                })
            },
        );
        let mut expected: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        expected.push("skipped".into());
        expected.push("failed".into());
        assert_eq!(seen, expected);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
