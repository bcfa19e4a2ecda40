//! The Spark example (`examples/spark/audit_warcs.py`) in local mode: its merged CSV must hold
//! exactly the rows of single-process `affcheck warc` runs on each file, with the header once.
//!
//! Needs Java and PySpark. PySpark lives in a virtual environment, `target/spark-venv` (or
//! `$AFFCHECK_SPARK_VENV`), created and filled from PyPI on first use. When that cannot be done
//! (offline, no `python3 -m venv`, no Java) the test is skipped with a message, unless
//! `AFFCHECK_REQUIRE_SPARK` is set (as CI does), in which case it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use affcheck::warc::WarcWriter;

/// The PySpark release installed (3.5 runs on Java 8, 11 and 17).
const PYSPARK: &str = "pyspark==3.5.9";

fn require() -> bool {
    std::env::var_os("AFFCHECK_REQUIRE_SPARK").is_some_and(|v| !v.is_empty())
}

/// Skips the test (or fails it when Spark is required).
fn unavailable(why: &str) {
    if require() {
        panic!("AFFCHECK_REQUIRE_SPARK is set but Spark cannot run: {why}");
    }
    eprintln!(
        "tests/spark.rs: SKIPPED: {why} (set AFFCHECK_REQUIRE_SPARK=1 to make this a failure)"
    );
}

fn venv_dir() -> PathBuf {
    std::env::var_os("AFFCHECK_SPARK_VENV").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/spark-venv"),
        PathBuf::from,
    )
}

fn quiet(cmd: &mut Command) -> Result<std::process::Output, String> {
    cmd.stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))
}

/// The venv's python with PySpark importable, creating and filling the venv when needed.
fn python_with_pyspark() -> Result<PathBuf, String> {
    let venv = venv_dir();
    let python = venv.join("bin/python");
    let has_pyspark = |python: &Path| {
        quiet(Command::new(python).args(["-c", "import pyspark"])).is_ok_and(|o| o.status.success())
    };
    if python.exists() && has_pyspark(&python) {
        return Ok(python);
    }
    let started = Instant::now();
    if !python.exists() {
        let out = quiet(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
        if !out.status.success() {
            return Err(format!(
                "python3 -m venv {} failed: {}",
                venv.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    // Short time-outs and one retry: offline, this fails in seconds instead of minutes.
    let out = quiet(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--timeout",
        "15",
        "--retries",
        "1",
        PYSPARK,
    ]))?;
    if !out.status.success() || !has_pyspark(&python) {
        return Err(format!(
            "pip install {PYSPARK} failed (is PyPI reachable?): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    eprintln!(
        "tests/spark.rs: installed {PYSPARK} into {} in {:.1} s",
        venv.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(python)
}

fn java_works() -> Result<(), String> {
    match quiet(Command::new("java").arg("-version")) {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "java -version failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("no Java for Spark: {e}")),
    }
}

const AMAZON: &str = "https://www.amazon.com/dp/B0X?tag=x-20";
const DISCLOSURE: &str = "We earn a commission if you buy through links on this page. \
     As an Amazon Associate we earn from qualifying purchases.";

/// A WARC of `pages` response records on `host`: some disclosed, some not, one link with a comma
/// and a quote in its text (CSV quoting), plus a request and a 404 that are not audited.
fn write_warc(path: &Path, host: &str, pages: usize, gzip: bool) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = WarcWriter::new(std::io::BufWriter::new(file), gzip);
    w.write_warcinfo("test.warc", &[("software", "tests/spark.rs")])
        .unwrap();
    for i in 0..pages {
        let body = match i % 3 {
            0 => format!(
                "<html><body><p><a href=\"{AMAZON}&i={i}\">Buy \"this\", now</a></p></body></html>"
            ),
            1 => format!(
                "<html><body><p>{DISCLOSURE}</p><p><a href=\"{AMAZON}&i={i}\">Buy</a></p>\
                 <a href=\"https://www.awin1.com/cread.php?awinmid=1&awinaffid=2&p={i}\">x</a></body></html>"
            ),
            _ => format!(
                "<html><body><p><a href=\"https://prf.hn/click/camref:{i}\">deal</a></p>\
                 <p>{DISCLOSURE}</p>\n<script src=\"https://s.skimresources.com/js/1X2.skimlinks.js\"></script></body></html>"
            ),
        };
        let uri = format!("https://{host}/post/{i}");
        w.write_record(
            "request",
            &[
                ("WARC-Target-URI", &uri),
                ("Content-Type", "application/http; msgtype=request"),
            ],
            format!("GET /post/{i} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let block = affcheck::warc::http_response_block(
            200,
            &[("Content-Type".into(), "text/html; charset=utf-8".into())],
            body.as_bytes(),
        );
        w.write_response(&uri, &block, None).unwrap();
    }
    let missing = affcheck::warc::http_response_block(404, &[], b"<p>gone</p>");
    w.write_response(&format!("https://{host}/gone"), &missing, None)
        .unwrap();
    w.get_mut().flush().unwrap();
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// Runs a command with a time limit; returns its output.
fn run_with_timeout(cmd: &mut Command, limit: Duration) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Spark job");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "the Spark job took longer than {limit:?}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn spark_job_merges_the_per_file_reports() {
    if let Err(why) = java_works() {
        return unavailable(&why);
    }
    let python = match python_with_pyspark() {
        Ok(p) => p,
        Err(why) => return unavailable(&why),
    };
    let dir = std::env::temp_dir().join(format!("affcheck-spark-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        (dir.join("one.warc.gz"), "one.example", 7, true),
        (dir.join("two.warc"), "two.example", 5, false),
        (dir.join("three.warc.gz"), "three.example", 9, true),
    ];
    for (path, host, pages, gzip) in &files {
        write_warc(path, host, *pages, *gzip);
    }
    let bin = env!("CARGO_BIN_EXE_affcheck");

    // Single-process reference: each file alone, headers dropped but one.
    let mut expected: Vec<Vec<String>> = Vec::new();
    let mut header = None;
    for (path, ..) in &files {
        let out = Command::new(bin)
            .arg("warc")
            .arg(path)
            .arg("-q")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut rows = csv_rows(&String::from_utf8(out.stdout).unwrap());
        header = Some(rows.remove(0));
        expected.extend(rows);
    }
    let header = header.unwrap();
    assert!(expected.len() > 20, "{expected:?}");
    expected.sort();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/spark/audit_warcs.py");
    let paths_file = dir.join("warc.paths");
    std::fs::write(
        &paths_file,
        files
            .iter()
            .map(|(p, ..)| p.file_name().unwrap().to_string_lossy().into_owned() + "\n")
            .collect::<String>(),
    )
    .unwrap();
    let prefix = format!("{}/", dir.display());
    // Streamed to the driver partition by partition (paths as arguments), and collected at once
    // (paths from a file with a prefix).
    let runs: [(&str, Vec<String>); 2] = [
        (
            "streamed",
            files
                .iter()
                .map(|(p, ..)| p.display().to_string())
                .collect(),
        ),
        (
            "collected",
            vec![
                "--collect".into(),
                "--paths-file".into(),
                paths_file.display().to_string(),
                "--prefix".into(),
                prefix,
            ],
        ),
    ];
    for (label, args) in runs {
        let merged = dir.join(format!("merged-{label}.csv"));
        let started = Instant::now();
        let out = run_with_timeout(
            Command::new(&python)
                .arg(&script)
                .args(["--master", "local[2]", "--affcheck", bin, "--output"])
                .arg(&merged)
                .args(&args)
                .env("PYSPARK_PYTHON", &python)
                .env("SPARK_LOCAL_IP", "127.0.0.1"),
            Duration::from_secs(180),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{label}: {stderr}");
        eprintln!(
            "tests/spark.rs: {label} job in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let text = std::fs::read_to_string(&merged).unwrap();
        let mut rows = csv_rows(&text);
        assert_eq!(rows[0], header, "{label}: header first");
        rows.remove(0);
        assert!(!rows.contains(&header), "{label}: a second header");
        rows.sort();
        assert_eq!(rows, expected, "{label}");
        assert!(
            stderr.contains(&format!("3 WARC files, {} rows", expected.len())),
            "{label}: {stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
