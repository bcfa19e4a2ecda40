//! The crawl's `--warc` output: every page response whose body was read, and every page redirect,
//! as WARC records that `affcheck warc` audits again later.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

use url::Url;

use super::CrawlError;
use crate::fetch;

/// The `--warc` output. Tasks encode (and compress) records themselves and write each whole under
/// the lock, before the page is journalled as done: a crawl stopped at any moment loses no record,
/// and a resumed one may repeat the records of the pages that were in flight.
pub(super) struct WarcOut {
    pub(super) path: PathBuf,
    gzip: bool,
    warcinfo: String,
    writer: Mutex<crate::warc::WarcWriter<File>>,
    /// The first write error; the crawl loop stops on it.
    pub(super) error: Mutex<Option<io::Error>>,
}

impl WarcOut {
    pub(super) fn open(path: &std::path::Path, resuming: bool) -> Result<WarcOut, CrawlError> {
        let err = |source| CrawlError::Output {
            path: path.display().to_string(),
            source,
        };
        let file = if resuming {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(err)?
        } else {
            File::create(path).map_err(err)?
        };
        let gzip = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        let mut writer = crate::warc::WarcWriter::new(file, gzip);
        let name = path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let warcinfo = writer
            .write_warcinfo(
                &name,
                &[
                    ("software", crate::fetch::USER_AGENT),
                    ("format", "WARC File Format 1.0"),
                    (
                        "description",
                        if resuming {
                            "affcheck crawl (resumed)"
                        } else {
                            "affcheck crawl"
                        },
                    ),
                ],
            )
            .map_err(err)?;
        Ok(WarcOut {
            path: path.to_path_buf(),
            gzip,
            warcinfo,
            writer: Mutex::new(writer),
            error: Mutex::new(None),
        })
    }

    /// Archives a page response: one whose body was read, or a redirect. The stored headers match
    /// the stored (decoded) body.
    pub(super) fn archive(&self, url: &Url, f: &fetch::Fetched) {
        if !(f.body.is_some() || (300..400).contains(&f.status)) {
            return;
        }
        let headers: Vec<(String, String)> = f
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let block = crate::warc::http_response_block(
            f.status,
            &headers,
            f.body.as_deref().unwrap_or_default(),
        );
        let fields = [
            ("WARC-Target-URI", url.as_str()),
            ("WARC-Warcinfo-ID", self.warcinfo.as_str()),
            ("Content-Type", "application/http; msgtype=response"),
        ];
        let written = crate::warc::encode_record("response", &fields, &block, self.gzip)
            .and_then(|(_, bytes)| self.writer.lock().expect("poisoned").write_encoded(&bytes));
        if let Err(e) = written {
            self.error.lock().expect("poisoned").get_or_insert(e);
        }
    }
}
