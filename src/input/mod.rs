//! The *input* stage: what the user names on the command line (URLs, files, folders, standard input)
//! becomes a stream of [`Source`]s, each read into a [`Document`].

mod web;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use url::Url;

use crate::document::Document;
use crate::fetch::FetchConfig;
use web::Web;

/// Largest page read by default (5 MB).
pub const DEFAULT_MAX_PAGE_BYTES: u64 = 5 * 1024 * 1024;

pub use crate::fetch::USER_AGENT;

/// Why a target or page could not be read. Each message names the target and says what to try.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The path does not exist.
    #[error("{target}: no such file or folder; check the path")]
    NotFound {
        /// The target as given.
        target: String,
    },
    /// Reading a file or folder failed.
    #[error("{target}: cannot read: {source}")]
    Io {
        /// The file or folder.
        target: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A folder holds no `*.html` or `*.htm` file.
    #[error(
        "{target}: no *.html or *.htm files in this folder; check the path (is the site built?)"
    )]
    NoPages {
        /// The folder.
        target: String,
    },
    /// The argument looks like a URL but is not a usable one.
    #[error("{target}: {reason}")]
    BadTarget {
        /// The target as given.
        target: String,
        /// What is wrong and what to write instead.
        reason: String,
    },
    /// The private-network guard refused the URL or a redirect of it.
    #[error("{target}: {message}")]
    Refused {
        /// The URL as given.
        target: String,
        /// Which address was refused, and how to allow it.
        message: String,
    },
    /// The request failed before an answer arrived.
    #[error("{target}: request failed: {message}; check the address and your network")]
    Fetch {
        /// The URL.
        target: String,
        /// What failed (connection, timeout, TLS, too many redirects …).
        message: String,
    },
    /// The server answered with an error status.
    #[error("{target}: server answered HTTP {status}; check that the page exists and is public")]
    Status {
        /// The URL.
        target: String,
        /// The HTTP status.
        status: u16,
    },
    /// The page is larger than the limit.
    #[error(
        "{target}: larger than {limit} bytes; raise the limit with --max-page-bytes if the page is genuine"
    )]
    TooLarge {
        /// The file or URL.
        target: String,
        /// The limit in bytes.
        limit: u64,
    },
}

impl InputError {
    /// The HTTP status, when a server answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            InputError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The file, folder or URL the error is about.
    pub fn target(&self) -> &str {
        match self {
            InputError::NotFound { target }
            | InputError::Io { target, .. }
            | InputError::BadTarget { target, .. }
            | InputError::Fetch { target, .. }
            | InputError::Refused { target, .. }
            | InputError::Status { target, .. }
            | InputError::TooLarge { target, .. }
            | InputError::NoPages { target } => target,
        }
    }
}

/// A command-line target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An `http(s)://` URL.
    Url(Url),
    /// A file or a folder.
    Path(PathBuf),
    /// `-`: standard input.
    Stdin,
}

impl Target {
    /// Reads a command-line argument: `-`, an `http(s)://` URL, or a path.
    pub fn parse(arg: &str) -> Result<Target, InputError> {
        if arg == "-" {
            return Ok(Target::Stdin);
        }
        let lower = arg.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Url::parse(arg)
                .map(Target::Url)
                .map_err(|e| InputError::BadTarget {
                    target: arg.to_string(),
                    reason: format!("not a valid URL ({e})"),
                });
        }
        if let Some((scheme, _)) = arg.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(InputError::BadTarget {
                target: arg.to_string(),
                reason: format!(
                    "`{scheme}://` is not supported; give an http(s) URL, a file, a folder or -"
                ),
            });
        }
        Ok(Target::Path(PathBuf::from(arg)))
    }
}

/// How the report names standard input read without `--base-url`.
pub const STDIN_DISPLAY: &str = "<stdin>";

/// The base of pages that have no URL (files without `--base-url`, standard input): the folder
/// target is the site root, so `/go/x` and `../../go/x` resolve alike, as on the live site.
fn local_root() -> Url {
    Url::parse("file:///").expect("valid URL")
}

/// One page to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local file, shown in the report as `display`, with links resolved against `base`.
    File {
        /// The file.
        path: PathBuf,
        /// `page_url` in the report.
        display: String,
        /// Base URL for relative links.
        base: Url,
    },
    /// A URL to fetch.
    Url(Url),
    /// Standard input, with an optional base URL.
    Stdin(Option<Url>),
}

impl Source {
    /// What the report calls this page.
    pub fn display(&self) -> String {
        match self {
            Source::File { display, .. } => display.clone(),
            Source::Url(url) => url.to_string(),
            Source::Stdin(Some(base)) => base.to_string(),
            Source::Stdin(None) => STDIN_DISPLAY.into(),
        }
    }
}

/// Expands targets into sources, in order: a folder yields every `*.html` / `*.htm` below it, sorted
/// by path; with `base_url`, files map to URLs (`DIR/a/b.html` → `BASE/a/b.html`). Errors come in
/// place, so a bad target does not stop the others.
pub fn sources<'a>(
    targets: &'a [Target],
    base_url: Option<&'a Url>,
) -> impl Iterator<Item = Result<Source, InputError>> + Send + 'a {
    // Standard input is one page: the base URL is that page's URL as given. Folders map below it.
    let page_url = base_url.cloned();
    let base_url = base_url.map(with_trailing_slash);
    targets
        .iter()
        .flat_map(move |target| -> Box<dyn Iterator<Item = _> + Send> {
            match target {
                Target::Url(url) => Box::new(std::iter::once(Ok(Source::Url(url.clone())))),
                Target::Stdin => Box::new(std::iter::once(Ok(Source::Stdin(page_url.clone())))),
                Target::Path(path) => path_sources(path, base_url.clone()),
            }
        })
}

fn with_trailing_slash(url: &Url) -> Url {
    let mut url = url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// What kind of special file `meta` describes, for the message.
fn special_file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    let _ = meta;
    "a special file"
}

fn path_sources(
    path: &Path,
    base_url: Option<Url>,
) -> Box<dyn Iterator<Item = Result<Source, InputError>> + Send> {
    let shown = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Box::new(std::iter::once(Err(InputError::NotFound { target: shown })));
        }
        Err(source) => {
            return Box::new(std::iter::once(Err(InputError::Io {
                target: shown,
                source,
            })));
        }
    };
    if meta.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Box::new(std::iter::once(file_source(
            path,
            &shown,
            &name,
            base_url.as_ref(),
        )));
    }
    if !meta.is_dir() {
        // A pipe or a device is neither a page nor a folder of pages; reading one could block
        // forever (a FIFO) or never end (`/dev/zero`).
        return Box::new(std::iter::once(Err(InputError::BadTarget {
            target: shown,
            reason: format!(
                "is {}, not a file or folder; pipe a page in with `-` instead (`cat page.html | affcheck check -`)",
                special_file_kind(&meta)
            ),
        })));
    }
    let root = path.to_path_buf();
    // Shared by the walk (which sets it) and the check after it.
    let found_any = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen_page = found_any.clone();
    let empty_root = root.clone();
    let walk = walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_map(move |entry| match entry {
            Ok(entry) => {
                let p = entry.path();
                let html = entry.file_type().is_file()
                    && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm")
                    });
                if !html {
                    return None;
                }
                seen_page.store(true, std::sync::atomic::Ordering::Relaxed);
                let rel = p.strip_prefix(&root).unwrap_or(p);
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                Some(file_source(
                    p,
                    &p.display().to_string(),
                    &rel.join("/"),
                    base_url.as_ref(),
                ))
            }
            Err(err) => {
                let target = err
                    .path()
                    .map_or_else(|| root.display().to_string(), |p| p.display().to_string());
                let source = err
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("filesystem loop"));
                Some(Err(InputError::Io { target, source }))
            }
        })
        // A folder without pages is almost always a wrong path or an unbuilt site: say so
        // instead of passing a CI run that checked nothing.
        .chain(std::iter::from_fn(move || {
            (!found_any.swap(true, std::sync::atomic::Ordering::Relaxed)).then(|| {
                Err(InputError::NoPages {
                    target: empty_root.display().to_string(),
                })
            })
        }));
    Box::new(walk)
}

/// A file source: shown as `BASE/rel` with a base URL, else as the path, links resolving against the
/// public URL or the file's own `file:` URL.
fn file_source(
    path: &Path,
    shown: &str,
    rel: &str,
    base_url: Option<&Url>,
) -> Result<Source, InputError> {
    let public = base_url
        .map(|b| b.join(&percent_path(rel)))
        .transpose()
        .map_err(|e| InputError::BadTarget {
            target: shown.to_string(),
            reason: format!("cannot map to a URL under --base-url ({e})"),
        })?;
    let base = match &public {
        Some(url) => url.clone(),
        None => local_root()
            .join(&percent_path(rel))
            .map_err(|e| InputError::BadTarget {
                target: shown.to_string(),
                reason: format!("cannot turn the path into a file URL ({e})"),
            })?,
    };
    Ok(Source::File {
        path: path.to_path_buf(),
        display: public.map_or_else(|| shown.to_string(), |u| u.to_string()),
        base,
    })
}

/// Escapes the characters of a relative file path that would change its meaning in a URL.
fn percent_path(rel: &str) -> String {
    let mut out = String::with_capacity(rel.len());
    for c in rel.chars() {
        match c {
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            ' ' => out.push_str("%20"),
            '\\' => out.push('/'),
            c => out.push(c),
        }
    }
    out
}

/// Reads sources into documents. URLs go through the one HTTP layer of [`crate::fetch`] (the same
/// retry, size and timeout policy as the crawl), set up on first use.
pub struct Reader {
    fetch: FetchConfig,
    max_bytes: u64,
    web: OnceLock<Result<Web, String>>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("fetch", &self.fetch)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// A reader with a time limit per request and a page size limit (files and responses), and
    /// the fetch layer's other defaults ([`FetchConfig::new`]).
    pub fn new(timeout: Duration, max_bytes: u64) -> Self {
        Self::with_fetch(FetchConfig::new(timeout, max_bytes))
    }

    /// A reader fetching URLs with `fetch` (its `max_bytes` also caps files).
    pub fn with_fetch(fetch: FetchConfig) -> Self {
        Reader {
            max_bytes: fetch.max_bytes,
            fetch,
            web: OnceLock::new(),
        }
    }

    /// Reads one file or standard input. URLs are read by [`Reader::read_url`].
    pub fn read(&self, source: &Source) -> Result<Document, InputError> {
        match source {
            Source::File {
                path,
                display,
                base,
            } => {
                let target = path.display().to_string();
                let file = std::fs::File::open(path).map_err(|source| InputError::Io {
                    target: target.clone(),
                    source,
                })?;
                let bytes = read_capped(file, self.max_bytes, &target)?;
                Ok(Document {
                    display: display.clone(),
                    base: Some(base.clone()),
                    bytes,
                    content_type: None,
                })
            }
            Source::Stdin(base) => {
                let bytes = read_capped(std::io::stdin().lock(), self.max_bytes, "-")?;
                Ok(Document {
                    display: source.display(),
                    base: Some(base.clone().unwrap_or_else(local_root)),
                    bytes,
                    content_type: None,
                })
            }
            Source::Url(url) => Err(InputError::BadTarget {
                target: url.to_string(),
                reason: "URLs are read with Reader::read_url".into(),
            }),
        }
    }
}

/// Reads at most `limit` bytes, failing when there are more.
fn read_capped(reader: impl Read, limit: u64, target: &str) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Io {
            target: target.to_string(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            target: target.to_string(),
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_recognised() {
        assert_eq!(Target::parse("-").unwrap(), Target::Stdin);
        assert!(matches!(
            Target::parse("https://a.example/x").unwrap(),
            Target::Url(_)
        ));
        assert!(matches!(
            Target::parse("HTTP://a.example/").unwrap(),
            Target::Url(_)
        ));
        assert_eq!(
            Target::parse("site/out").unwrap(),
            Target::Path("site/out".into())
        );
        let err = Target::parse("ftp://a.example/").unwrap_err().to_string();
        assert!(
            err.contains("ftp://a.example/") && err.contains("not supported"),
            "{err}"
        );
        assert!(Target::parse("https://").is_err());
    }

    #[test]
    fn folder_is_walked_sorted_and_mapped_to_urls() {
        let dir = std::env::temp_dir().join(format!("affcheck-input-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b")).unwrap();
        for f in ["b/z.html", "a.htm", "c.HTML", "notes.txt", "b/a b.html"] {
            std::fs::write(dir.join(f), "<p>x</p>").unwrap();
        }
        let base = Url::parse("https://site.example/blog").unwrap();
        let targets = [Target::Path(dir.clone())];
        let shown: Vec<String> = sources(&targets, Some(&base))
            .map(|s| s.unwrap().display())
            .collect();
        assert_eq!(
            shown,
            vec![
                "https://site.example/blog/a.htm",
                "https://site.example/blog/b/a%20b.html",
                "https://site.example/blog/b/z.html",
                "https://site.example/blog/c.HTML",
            ]
        );
        let plain: Vec<String> = sources(&targets, None)
            .map(|s| s.unwrap().display())
            .collect();
        assert!(plain[0].ends_with("a.htm") && plain[0].starts_with(&dir.display().to_string()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_path_is_an_error_in_place() {
        let targets = [Target::Path("/nonexistent/affcheck".into())];
        let got: Vec<_> = sources(&targets, None).collect();
        let err = got[0].as_ref().unwrap_err().to_string();
        assert!(
            err.starts_with("/nonexistent/affcheck: no such file"),
            "{err}"
        );
    }

    #[test]
    fn oversized_input_is_refused() {
        let err = read_capped(&b"0123456789"[..], 4, "big.html")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("big.html") && err.contains("--max-page-bytes"),
            "{err}"
        );
        assert_eq!(read_capped(&b"0123"[..], 4, "x").unwrap().len(), 4);
    }
}
