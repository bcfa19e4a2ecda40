//! Support for the `affcheck crawl` end-to-end tests: a scriptable HTTP server (axum on its own
//! Tokio runtime) that records every request, a runner for the built binary with a watchdog, CSV
//! readers and throw-away folders.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsStr;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::Response;

/// The documented report columns, in order.
pub const REPORT_HEADER: &str =
    "page_url,rule,severity,link_url,network,link_text,line,disclosure_excerpt,message";

/// The columns of the `--errors` file.
pub const ERRORS_HEADER: &str = "url,status,error,attempts";

/// An undisclosed Amazon affiliate link.
pub const AMAZON: &str = "https://www.amazon.com/dp/B0X?tag=x-20";

/// A disclosure the rules count, Amazon's required statement included (so that a disclosed Amazon
/// link yields no row at all).
pub const DISCLOSURE: &str = "We earn a commission if you buy through links on this page. \
     As an Amazon Associate we earn from qualifying purchases.";

/// Longest a single crawl may run before the test gives up on it.
pub const WATCHDOG: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Replies

/// One scripted HTTP response.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// A 200 `text/html; charset=utf-8` answer.
    pub fn html(body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(body)
    }

    /// A 200 answer of this content type.
    pub fn typed(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(200)
            .header("Content-Type", content_type)
            .body(body)
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::new(status).header("Location", location)
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// A whole HTML page around `body`.
pub fn page(body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Test page</title></head>\n<body>\n{body}\n</body></html>\n"
    )
}

/// `<a href=…>` for each path or URL.
pub fn links(hrefs: &[&str]) -> String {
    hrefs
        .iter()
        .map(|h| format!("<p><a href=\"{h}\">{h}</a></p>\n"))
        .collect()
}

/// Gzip-compresses `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// A `<urlset>` sitemap listing `urls`.
pub fn urlset(urls: &[String]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for u in urls {
        s.push_str(&format!("  <url><loc>{u}</loc></url>\n"));
    }
    s.push_str("</urlset>\n");
    s
}

/// A `<sitemapindex>` listing `urls`.
pub fn sitemap_index(urls: &[String]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for u in urls {
        s.push_str(&format!("  <sitemap><loc>{u}</loc></sitemap>\n"));
    }
    s.push_str("</sitemapindex>\n");
    s
}

// ---------------------------------------------------------------------------------------------
// Server

/// Answers the `n`-th request (0-based) to a path, given the request's query.
type Handler = Arc<dyn Fn(Option<&str>, usize) -> Reply + Send + Sync>;

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The path, without the query.
    pub path: String,
    pub query: Option<String>,
    /// The `Host` header.
    pub host: String,
    pub headers: HeaderMap,
    pub at: Instant,
}

#[derive(Default)]
struct Shared {
    routes: Mutex<HashMap<String, Handler>>,
    hits: Mutex<Vec<Hit>>,
    counts: Mutex<HashMap<String, usize>>,
    total: AtomicUsize,
}

/// A test site on 127.0.0.1, on a port of its own, served from its own Tokio runtime. Paths
/// without a route answer 404.
pub struct Site {
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Site {
    pub fn start() -> Site {
        Site::start_on("127.0.0.1")
    }

    /// A site on another loopback address (`127.0.0.2` …): another host, and an internal
    /// address nobody named, as far as affcheck is concerned.
    pub fn start_on(ip: &str) -> Site {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("server runtime");
        let shared = Arc::new(Shared::default());
        let state = Arc::clone(&shared);
        let router = Router::new().fallback(move |req: Request| {
            let state = Arc::clone(&state);
            async move { answer(&state, req).await }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind((ip, 0)))
            .unwrap_or_else(|e| panic!("bind {ip}:0: {e}"));
        let addr = listener.local_addr().expect("local address");
        runtime.spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Site {
            addr,
            shared,
            runtime: Some(runtime),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The same server named `localhost`: another host as far as the crawl scope goes.
    pub fn localhost_url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.addr.port())
    }

    /// Answers every request to `path` with `reply`.
    pub fn reply(&self, path: &str, reply: Reply) -> &Site {
        self.route(path, move |_| reply.clone())
    }

    /// Answers `path` with an HTML page around `body`.
    pub fn page(&self, path: &str, body: &str) -> &Site {
        self.reply(path, Reply::html(page(body)))
    }

    /// Answers requests to `path` with `f(n)`, `n` counting earlier requests to the path.
    pub fn route(&self, path: &str, f: impl Fn(usize) -> Reply + Send + Sync + 'static) -> &Site {
        self.route_query(path, move |_, n| f(n))
    }

    /// Answers requests to `path` with `f(query, n)`: pages generated from their query string
    /// (a calendar that links to the next month forever).
    pub fn route_query(
        &self,
        path: &str,
        f: impl Fn(Option<&str>, usize) -> Reply + Send + Sync + 'static,
    ) -> &Site {
        self.shared
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), Arc::new(f));
        self
    }

    /// Every request so far, in arrival order.
    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }

    /// Requests to `path` so far.
    pub fn hits_to(&self, path: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.path == path).collect()
    }

    /// How many requests `path` received.
    pub fn count(&self, path: &str) -> usize {
        self.shared
            .counts
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Requests of any path.
    pub fn total(&self) -> usize {
        self.shared.total.load(Ordering::SeqCst)
    }

    /// Requested paths with their counts, robots.txt left out.
    pub fn page_counts(&self) -> BTreeMap<String, usize> {
        self.shared
            .counts
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.as_str() != "/robots.txt")
            .map(|(p, n)| (p.clone(), *n))
            .collect()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            // Handlers may still be sleeping (time-out tests): do not wait for them.
            rt.shutdown_background();
        }
    }
}

async fn answer(shared: &Shared, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let hit = Hit {
        path: path.clone(),
        query: req.uri().query().map(str::to_string),
        host: req
            .headers()
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        headers: req.headers().clone(),
        at: Instant::now(),
    };
    let n = {
        let mut counts = shared.counts.lock().unwrap();
        let c = counts.entry(path.clone()).or_default();
        *c += 1;
        *c - 1
    };
    shared.hits.lock().unwrap().push(hit);
    shared.total.fetch_add(1, Ordering::SeqCst);
    let handler = shared.routes.lock().unwrap().get(&path).cloned();
    let reply = match handler {
        Some(h) => h(req.uri().query(), n),
        None => Reply::typed("text/plain", "not found").status(404),
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut builder = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Body::from(reply.body)).expect("response")
}

impl Reply {
    /// The same reply with another status.
    pub fn status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Files

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh folder below the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "affcheck-crawl-test-{}-{name}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn root(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CSV file read back (the helper the `check` tests use too).
pub use crate::common::Csv;

// ---------------------------------------------------------------------------------------------
// Running the binary

/// How a crawl ended.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// `affcheck crawl ARGS…`, not yet started.
pub fn crawl_command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_affcheck"));
    cmd.arg("crawl").args(args).stdin(Stdio::null());
    cmd
}

/// Starts `affcheck crawl ARGS…` in `dir` (so that no `affcheck.toml` of the working tree applies),
/// with its standard output and error captured in files there.
pub fn spawn(dir: &TempDir, args: &[String]) -> (Child, PathBuf, PathBuf) {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let out = dir.path(&format!("stdout-{n}"));
    let err = dir.path(&format!("stderr-{n}"));
    let child = crawl_command(args)
        .current_dir(dir.root())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("start affcheck");
    (child, out, err)
}

/// Runs `affcheck crawl ARGS…` to the end (killing it after [`WATCHDOG`]).
pub fn crawl(dir: &TempDir, args: &[String]) -> Run {
    let started = Instant::now();
    let (mut child, out, err) = spawn(dir, args);
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait for affcheck") {
            break status.code();
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "affcheck crawl {args:?} still running after {WATCHDOG:?}; stderr:\n{}",
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        code,
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

/// Owned argument list from string slices.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// Outcomes

/// A crawl run with its report and errors files read back.
pub struct Outcome {
    pub run: Run,
    pub report: Csv,
    pub errors: Csv,
}

/// Runs `affcheck crawl ARGS… --output R --errors E` with fresh files in `dir`.
pub fn crawl_site(dir: &TempDir, list: &[&str]) -> Outcome {
    let n = dir_counter();
    let report = dir.path(&format!("report-{n}.csv"));
    let errors = dir.path(&format!("errors-{n}.csv"));
    let mut a = args(list);
    a.extend([
        "--output".to_string(),
        report.display().to_string(),
        "--errors".to_string(),
        errors.display().to_string(),
    ]);
    let run = crawl(dir, &a);
    for f in [&report, &errors] {
        assert!(
            f.is_file(),
            "{} was not written (exit {:?}); stderr:\n{}",
            f.display(),
            run.code,
            run.stderr
        );
    }
    Outcome {
        report: Csv::read(&report),
        errors: Csv::read(&errors),
        run,
    }
}

fn dir_counter() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

impl Outcome {
    /// Pages with an `undisclosed` row.
    pub fn undisclosed_pages(&self) -> BTreeSet<String> {
        self.report
            .rows_where("rule", "undisclosed")
            .iter()
            .map(|r| r["page_url"].clone())
            .collect()
    }

    /// Context for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "exit {:?}\nstderr:\n{}\nreport: {:#?}\nerrors: {:#?}",
            self.run.code, self.run.stderr, self.report.rows, self.errors.rows
        )
    }

    pub fn assert_no_errors(&self) {
        assert_eq!(self.errors.header_line(), ERRORS_HEADER);
        assert!(
            self.errors.rows.is_empty(),
            "unexpected errors: {}",
            self.dump()
        );
    }
}

/// A page body with an undisclosed Amazon link and further `hrefs`.
pub fn undisclosed_body(hrefs: &[&str]) -> String {
    format!(
        "<p>These shoes are great.</p>\n<p><a href=\"{AMAZON}\">Buy the shoes</a></p>\n{}",
        links(hrefs)
    )
}
