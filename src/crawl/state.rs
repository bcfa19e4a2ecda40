//! The `--state` journal that makes a crawl resumable after any interruption, `kill -9` included.
//!
//! The journal is an append-only text file, one event per line:
//!
//! ```text
//! affcheck-state 1
//! Q <depth> <hops> <url>                              URL admitted to the frontier
//! S <report> <errors> <url>                          sitemap read (or failed) and its pages admitted
//! D <kind> <links> <report> <errors> <url> [<key>]    URL finished; output files end at these offsets
//! ```
//!
//! A `D` line is written only after the URL's report rows are flushed, and carries the length of the
//! report and errors files at that moment. On resume both files are cut back to the offsets of the
//! last `D` line, so rows of a page that was being written when the crawl died are dropped and the
//! page is crawled again: no row is lost and none is written twice. A torn last line (the process
//! died mid-write) is ignored.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use url::Url;

const MAGIC: &str = "affcheck-state 1";

/// How a URL ended, as recorded in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneKind {
    /// Audited as a page.
    Page,
    /// Not audited: redirect, non-HTML, duplicate, robots.txt, or a failure.
    Other,
}

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
    /// Pages audited.
    pub pages: usize,
    /// Affiliate links found on them.
    pub affiliate_links: usize,
    /// URLs finished in any way.
    pub finished: usize,
    /// Report length at the last finished URL.
    pub report_offset: u64,
    /// Errors-file length at the last finished URL.
    pub errors_offset: u64,
}

/// Errors reading or writing the journal.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file exists but is not an affcheck journal.
    #[error("{path}: not an affcheck state file; remove it or name another file with --state")]
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
    out: BufWriter<File>,
    path: PathBuf,
}

impl Journal {
    /// Opens `path`, reading what an earlier run recorded (nothing when the file is new or empty).
    pub fn open(path: &Path) -> Result<(Journal, Resumed), StateError> {
        let io_err = |source| StateError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut resumed = Resumed::default();
        let mut fresh = true;
        if let Ok(file) = File::open(path) {
            let mut lines = BufReader::new(file).split(b'\n').peekable();
            let mut admitted: Vec<(Url, u32, u32)> = Vec::new();
            let mut done: HashSet<String> = HashSet::new();
            let mut first = true;
            let complete = ends_with_newline(path);
            while let Some(line) = lines.next() {
                let line = line.map_err(io_err)?;
                // A last line without its newline was torn by a crash: ignore it.
                if lines.peek().is_none() && !complete {
                    break;
                }
                let Ok(line) = std::str::from_utf8(&line) else {
                    continue;
                };
                if first {
                    first = false;
                    if line.is_empty() {
                        continue;
                    }
                    if line != MAGIC {
                        return Err(StateError::NotAJournal {
                            path: path.to_path_buf(),
                        });
                    }
                    fresh = false;
                    continue;
                }
                let mut f = line.split(' ');
                match f.next() {
                    Some("Q") => {
                        let (Some(d), Some(h), Some(u)) = (f.next(), f.next(), f.next()) else {
                            continue;
                        };
                        if let (Ok(d), Ok(h), Ok(u)) = (d.parse(), h.parse(), Url::parse(u)) {
                            resumed.seen.insert(u.to_string());
                            admitted.push((u, d, h));
                        }
                    }
                    Some("S") => {
                        let (Some(rep), Some(err), Some(u)) = (f.next(), f.next(), f.next()) else {
                            continue;
                        };
                        if let (Ok(rep), Ok(err)) = (rep.parse(), err.parse()) {
                            resumed.sitemaps_done.insert(u.to_string());
                            resumed.report_offset = rep;
                            resumed.errors_offset = err;
                        }
                    }
                    Some("D") => {
                        let v: Vec<&str> = f.collect();
                        if v.len() < 5 {
                            continue;
                        }
                        let (Ok(links), Ok(rep), Ok(err)) =
                            (v[1].parse::<usize>(), v[2].parse(), v[3].parse())
                        else {
                            continue;
                        };
                        if v[0] == "page" {
                            resumed.pages += 1;
                            resumed.affiliate_links += links;
                        }
                        if let Some(key) = v.get(5) {
                            resumed.audited_keys.insert(key.to_string());
                        }
                        resumed.finished += 1;
                        resumed.report_offset = rep;
                        resumed.errors_offset = err;
                        done.insert(v[4].to_string());
                    }
                    _ => {}
                }
            }
            resumed.pending = admitted
                .into_iter()
                .filter(|(u, _, _)| !done.contains(u.as_str()))
                .collect();
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io_err)?;
        let mut journal = Journal {
            out: BufWriter::new(file),
            path: path.to_path_buf(),
        };
        if fresh {
            // Start over cleanly: a journal holding only a torn header is rewritten.
            journal.out.get_ref().set_len(0).map_err(io_err)?;
            writeln!(journal.out, "{MAGIC}").map_err(io_err)?;
            journal.flush()?;
        }
        Ok((journal, resumed))
    }

    /// Records that `url` joined the frontier.
    pub fn queued(&mut self, url: &Url, depth: u32, hops: u32) -> Result<(), StateError> {
        let r = writeln!(self.out, "Q {depth} {hops} {url}");
        r.map_err(|e| self.err(e))
    }

    /// Records that a sitemap is finished (its pages admitted, or its error row written) and the
    /// output files end at these offsets; flushes.
    pub fn sitemap_done(
        &mut self,
        url: &Url,
        report_offset: u64,
        errors_offset: u64,
    ) -> Result<(), StateError> {
        let r = writeln!(self.out, "S {report_offset} {errors_offset} {url}");
        r.map_err(|e| self.err(e))?;
        self.flush()
    }

    /// Records that `url` is finished and the output files end at these offsets; flushes.
    pub fn done(
        &mut self,
        url: &Url,
        kind: DoneKind,
        links: usize,
        report_offset: u64,
        errors_offset: u64,
        key: Option<&str>,
    ) -> Result<(), StateError> {
        let kind = match kind {
            DoneKind::Page => "page",
            DoneKind::Other => "other",
        };
        let r = match key {
            Some(k) => writeln!(
                self.out,
                "D {kind} {links} {report_offset} {errors_offset} {url} {k}"
            ),
            None => writeln!(
                self.out,
                "D {kind} {links} {report_offset} {errors_offset} {url}"
            ),
        };
        r.map_err(|e| self.err(e))?;
        self.flush()
    }

    /// Writes buffered events to the file.
    pub fn flush(&mut self) -> Result<(), StateError> {
        let r = self.out.flush();
        r.map_err(|e| self.err(e))
    }

    fn err(&self, source: io::Error) -> StateError {
        StateError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// Whether the file's last byte is a newline (its last line is complete).
fn ends_with_newline(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut b = [0u8; 1];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut b).is_ok() && b[0] == b'\n'
}

/// Cuts `path` back to `len` bytes (dropping rows of pages that were not finished).
pub fn truncate(path: &Path, len: u64) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    if f.metadata()?.len() > len {
        f.set_len(len)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("affcheck-state-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn resume_returns_unfinished_urls_in_order_and_last_offsets() {
        let p = temp("resume");
        let u = |s: &str| Url::parse(s).unwrap();
        {
            let (mut j, r) = Journal::open(&p).unwrap();
            assert!(r.pending.is_empty());
            j.queued(&u("http://e.com/"), 0, 0).unwrap();
            j.queued(&u("http://e.com/a"), 1, 0).unwrap();
            j.queued(&u("http://e.com/b"), 1, 0).unwrap();
            j.done(
                &u("http://e.com/"),
                DoneKind::Page,
                3,
                120,
                0,
                Some("http://e.com/"),
            )
            .unwrap();
        }
        // A torn line from a crash mid-write.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"D page 1 999 0 http://e.co").unwrap();
        drop(f);
        let (_, r) = Journal::open(&p).unwrap();
        let pending: Vec<&str> = r.pending.iter().map(|(u, _, _)| u.as_str()).collect();
        assert_eq!(pending, ["http://e.com/a", "http://e.com/b"]);
        assert_eq!((r.pages, r.affiliate_links, r.report_offset), (1, 3, 120));
        assert!(r.audited_keys.contains("http://e.com/"));
        assert_eq!(r.seen.len(), 3);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let p = temp("foreign");
        std::fs::write(&p, "page_url,rule\n").unwrap();
        assert!(matches!(
            Journal::open(&p),
            Err(StateError::NotAJournal { .. })
        ));
        std::fs::remove_file(&p).unwrap();
    }
}
