//! Helpers shared by the end-to-end tests of `affcheck check`: run the built binary, read its CSV
//! output, and make throw-away folders. Each test file uses a different subset.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Public URL of the bundled example site.
pub const BASE: &str = "https://example-site.test/";

/// The documented report columns, in order.
pub const REPORT_HEADER: &str =
    "page_url,rule,severity,link_url,network,link_text,line,disclosure_excerpt,message";

/// `fixtures/site`, the bundled example blog.
pub fn site_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/site")
}

/// A page of the bundled site, by its path below `fixtures/site`.
pub fn site_page(rel: &str) -> PathBuf {
    let path = site_dir().join(rel);
    assert!(path.is_file(), "missing fixture {}", path.display());
    path
}

/// `affcheck check ARGS…`, not yet run.
pub fn check<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_affcheck"));
    cmd.arg("check").args(args);
    cmd
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The CSV report printed on standard output.
    pub fn report(&self) -> Csv {
        Csv::parse(&self.stdout)
    }

    /// Lines of standard error.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

/// Runs `cmd` with an empty standard input (not a terminal, so the report is CSV).
pub fn run(cmd: &mut Command) -> Run {
    run_with_stdin(cmd, b"")
}

/// Runs `cmd`, feeding `input` on standard input.
pub fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start affcheck");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        // A run that does not read standard input may close it early: ignore a broken pipe.
        let _ = stdin.write_all(input);
    }
    let out = child.wait_with_output().expect("wait for affcheck");
    Run {
        code: out.status.code().expect("affcheck was killed by a signal"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// One CSV row, cells by column name.
pub type Row = BTreeMap<String, String>;

/// A parsed CSV file with a header row.
#[derive(Debug, Clone)]
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

impl Csv {
    pub fn parse(text: &str) -> Csv {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("CSV header")
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|record| {
                let record = record.unwrap_or_else(|e| panic!("bad CSV row: {e}\n{text}"));
                header
                    .iter()
                    .cloned()
                    .zip(record.iter().map(str::to_owned))
                    .collect()
            })
            .collect();
        Csv { header, rows }
    }

    pub fn read(path: &Path) -> Csv {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
        Csv::parse(&text)
    }

    /// The header as written (`a,b,c`).
    pub fn header_line(&self) -> String {
        self.header.join(",")
    }

    /// Rows whose `column` equals `value`.
    pub fn rows_where(&self, column: &str, value: &str) -> Vec<&Row> {
        self.rows
            .iter()
            .filter(|row| row[column] == value)
            .collect()
    }

    /// The only row whose `column` equals `value`.
    pub fn row_where(&self, column: &str, value: &str) -> &Row {
        let rows = self.rows_where(column, value);
        assert_eq!(
            rows.len(),
            1,
            "expected one row with {column} = {value}, got {rows:#?}"
        );
        rows[0]
    }

    /// Every value of `column`, in row order.
    pub fn column(&self, column: &str) -> Vec<&str> {
        self.rows.iter().map(|row| row[column].as_str()).collect()
    }
}

/// A folder under the system temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "affcheck-test-{}-{}-{label}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `rel` below the folder (creating subfolders) and returns its path.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small blog post with `body` inside `<main>`, declared as `charset`.
pub fn page(charset: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"{charset}\">\n\
         <title>Test post</title>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
