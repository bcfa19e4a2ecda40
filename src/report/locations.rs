//! Where a page's source lives: the mapping from a report's `page_url` to a file in the repository,
//! which SARIF, GitHub annotations and JUnit need to point at the right file.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use url::Url;

/// A caller-supplied mapping from `page_url` to a local file path.
type Mapper = Arc<dyn Fn(&str) -> Option<PathBuf> + Send + Sync>;

/// Maps a page's `page_url` to the path of its source file relative to a repository root.
///
/// A [`PageReport`](crate::findings::PageReport) only carries `page_url`, which is either the file
/// path as given on the command line or a URL (always a URL with `--base-url`, even for local
/// files). `Locations` answers, per page, which local file that is:
///
/// 1. a custom mapper ([`Locations::with_mapper`]), when set and when it answers;
/// 2. a URL under a base added with [`Locations::with_base`] maps to the same relative path under
///    that folder (`https://site.example/a/b.html` with base `https://site.example/` and folder
///    `public` → `public/a/b.html`; a path ending in `/` gets `index.html`);
/// 3. any other `http(s)` URL and standard input (`-`) have no local file;
/// 4. anything else is a file path.
///
/// The file is then made relative to the root given to [`Locations::new`] (without a root, a
/// relative path is kept as it is and an absolute one has no repository path). Paths are written
/// with `/` separators.
#[derive(Clone, Default)]
pub struct Locations {
    root: Option<PathBuf>,
    bases: Vec<(String, PathBuf)>,
    mapper: Option<Mapper>,
}

impl fmt::Debug for Locations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Locations")
            .field("root", &self.root)
            .field("bases", &self.bases)
            .field("mapper", &self.mapper.as_ref().map(|_| "Fn"))
            .finish()
    }
}

impl Locations {
    /// Locations relative to `root` (usually the current directory or `$GITHUB_WORKSPACE`); `None`
    /// keeps relative paths as they are.
    pub fn new(root: Option<PathBuf>) -> Self {
        Locations {
            root,
            bases: Vec::new(),
            mapper: None,
        }
    }

    /// Pages under `base_url` are the files under `dir` (what `check DIR --base-url URL` does).
    /// Several bases may be added; the first that matches wins.
    pub fn with_base(mut self, base_url: &Url, dir: impl Into<PathBuf>) -> Self {
        let mut base = base_url.to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        self.bases.push((base, dir.into()));
        self
    }

    /// Asks `mapper` first for the local file of a `page_url`; when it answers `None` the other
    /// rules apply.
    pub fn with_mapper(
        mut self,
        mapper: impl Fn(&str) -> Option<PathBuf> + Send + Sync + 'static,
    ) -> Self {
        self.mapper = Some(Arc::new(mapper));
        self
    }

    /// The local file of a page, as the caller would open it (not made relative to the root).
    pub fn local_file(&self, page_url: &str) -> Option<PathBuf> {
        if let Some(found) = self.mapper.as_ref().and_then(|m| m(page_url)) {
            return Some(found);
        }
        for (base, dir) in &self.bases {
            if let Some(rest) = page_url.strip_prefix(base.as_str()) {
                let rest = rest.split(['?', '#']).next().unwrap_or("");
                let mut path = dir.clone();
                for segment in rest.split('/').filter(|s| !s.is_empty()) {
                    let segment = percent_decode(segment);
                    if segment == ".." || segment == "." {
                        return None;
                    }
                    path.push(segment);
                }
                if rest.is_empty() || rest.ends_with('/') {
                    path.push("index.html");
                }
                return Some(path);
            }
        }
        if page_url == "-" || is_url(page_url) {
            return None;
        }
        Some(PathBuf::from(page_url))
    }

    /// The page's file relative to the root, with `/` separators (`public/a/b.html`); `None` when
    /// the page has no local file or the file is outside the root.
    pub fn repo_path(&self, page_url: &str) -> Option<String> {
        let file = self.local_file(page_url)?;
        let rel = match &self.root {
            Some(root) => relative_to(&file, root)?,
            None if file.is_absolute() => return None,
            None => file,
        };
        let parts: Vec<String> = rel
            .components()
            .filter_map(|c| match c {
                Component::CurDir => None,
                other => Some(other.as_os_str().to_string_lossy().into_owned()),
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join("/"))
    }

    /// The SARIF `artifactLocation.uri` of a page: the percent-encoded repository path when the page
    /// has one, else the page URL, else an absolute `file:` URL (or the text as given).
    pub fn artifact_uri(&self, page_url: &str) -> String {
        if let Some(path) = self.repo_path(page_url) {
            return percent_encode_path(&path);
        }
        if is_url(page_url) {
            return page_url.to_string();
        }
        if let Some(url) = self
            .local_file(page_url)
            .and_then(|f| std::path::absolute(f).ok())
            .and_then(|abs| Url::from_file_path(abs).ok())
        {
            return url.to_string();
        }
        percent_encode_path(page_url)
    }
}

/// Whether `s` starts with a URL scheme followed by `://`.
fn is_url(s: &str) -> bool {
    s.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

/// `file` relative to `root`: lexically on absolute forms first, then on canonical forms (symlinks).
fn relative_to(file: &Path, root: &Path) -> Option<PathBuf> {
    let abs_file = std::path::absolute(file).ok()?;
    let abs_root = std::path::absolute(root).ok()?;
    if let Ok(rel) = abs_file.strip_prefix(&abs_root) {
        return Some(rel.to_path_buf());
    }
    let canon_file = std::fs::canonicalize(file).ok()?;
    let canon_root = std::fs::canonicalize(root).ok()?;
    canon_file
        .strip_prefix(canon_root)
        .ok()
        .map(Path::to_path_buf)
}

/// Percent-encodes a `/`-separated relative path for use as a URI reference: everything except
/// unreserved characters, `/` and a few safe sub-delimiters is encoded (spaces as `%20`, `:` too,
/// so a first segment never reads as a scheme).
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes `%XX` escapes; invalid escapes and invalid UTF-8 are kept as they are (lossy).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_without_root_are_kept() {
        let l = Locations::new(None);
        assert_eq!(
            l.repo_path("./site/a b.html").as_deref(),
            Some("site/a b.html")
        );
        assert_eq!(l.artifact_uri("site/a b.html"), "site/a%20b.html");
        assert_eq!(l.repo_path("https://x.example/a.html"), None);
        assert_eq!(
            l.artifact_uri("https://x.example/a.html"),
            "https://x.example/a.html"
        );
        assert_eq!(l.repo_path("-"), None);
    }

    #[test]
    fn root_makes_paths_relative() {
        let cwd = std::env::current_dir().unwrap();
        let l = Locations::new(Some(cwd.clone()));
        let abs = cwd.join("public").join("x.html");
        assert_eq!(
            l.repo_path(&abs.display().to_string()).as_deref(),
            Some("public/x.html")
        );
        assert_eq!(
            l.repo_path("public/x.html").as_deref(),
            Some("public/x.html")
        );
        let outside = Locations::new(Some(cwd.join("sub")));
        assert_eq!(outside.repo_path("public/x.html"), None);
        assert!(
            outside
                .artifact_uri("public/x.html")
                .starts_with("file:///")
        );
    }

    #[test]
    fn base_url_maps_back_to_the_folder() {
        let base = Url::parse("https://site.example/blog").unwrap();
        let l = Locations::new(None).with_base(&base, "public");
        assert_eq!(
            l.repo_path("https://site.example/blog/a%20b/c.html?x=1#top")
                .as_deref(),
            Some("public/a b/c.html")
        );
        assert_eq!(
            l.repo_path("https://site.example/blog/dir/").as_deref(),
            Some("public/dir/index.html")
        );
        assert_eq!(l.repo_path("https://site.example/blog/../x.html"), None);
        assert_eq!(l.repo_path("https://other.example/blog/c.html"), None);
    }

    #[test]
    fn mapper_comes_first() {
        let l = Locations::new(None).with_mapper(|p| p.strip_prefix("page:").map(PathBuf::from));
        assert_eq!(l.repo_path("page:a/b.html").as_deref(), Some("a/b.html"));
        assert_eq!(l.repo_path("c.html").as_deref(), Some("c.html"));
    }

    #[test]
    fn encoding_and_decoding() {
        assert_eq!(
            percent_encode_path("a b/ü:#?%.html"),
            "a%20b/%C3%BC%3A%23%3F%25.html"
        );
        assert_eq!(percent_decode("a%20b%C3%BC%zz%"), "a bü%zz%");
        assert!(is_url("https://x") && is_url("file:///x") && !is_url("a/b") && !is_url("://x"));
    }
}
