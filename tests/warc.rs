//! `affcheck warc` end to end: WARC files written in the test (plain, gzip per record, damaged),
//! and the round trip `affcheck crawl --warc` → `affcheck warc` on a small site served by axum.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use affcheck::warc::{WarcReader, WarcWriter};

const AMAZON: &str = "https://www.amazon.com/dp/B0X?tag=x-20";
const DISCLOSURE: &str = "We earn a commission if you buy through links on this page. \
     As an Amazon Associate we earn from qualifying purchases.";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_affcheck"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run affcheck")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("affcheck-warc-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Rows of a CSV report (header first).
fn rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn page_urls(report: &[Vec<String>]) -> Vec<String> {
    let mut pages: Vec<String> = report[1..].iter().map(|r| r[0].clone()).collect();
    pages.dedup();
    pages
}

fn undisclosed_page(title: &str) -> String {
    format!("<html><body><h1>{title}</h1><p><a href=\"{AMAZON}\">Buy</a></p></body></html>")
}

fn http(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut b = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for (k, v) in headers {
        b.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    b.extend_from_slice(b"\r\n");
    b.extend_from_slice(body);
    b
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A WARC with every kind of record the auditor meets; three pages are audited (a, c, d).
fn sample_warc(gz: bool) -> Vec<u8> {
    let mut w = WarcWriter::new(Vec::new(), gz);
    let html = [("Content-Type", "text/html; charset=utf-8")];
    let http_ct = ("Content-Type", "application/http; msgtype=response");
    w.write_warcinfo("sample.warc", &[("software", "test")])
        .unwrap();
    w.write_record(
        "request",
        &[
            ("WARC-Target-URI", "https://s.example/a"),
            ("Content-Type", "application/http; msgtype=request"),
        ],
        b"GET /a HTTP/1.1\r\nHost: s.example\r\n\r\n",
    )
    .unwrap();
    let a = http("200 OK", &html, undisclosed_page("A").as_bytes());
    w.write_record(
        "response",
        &[("WARC-Target-URI", "<https://s.example/a>"), http_ct],
        &a,
    )
    .unwrap();
    let missing = http("404 Not Found", &html, undisclosed_page("404").as_bytes());
    w.write_record(
        "response",
        &[("WARC-Target-URI", "https://s.example/missing"), http_ct],
        &missing,
    )
    .unwrap();
    let css = http("200 OK", &[("Content-Type", "text/css")], b"p{}");
    w.write_record(
        "response",
        &[("WARC-Target-URI", "https://s.example/site.css"), http_ct],
        &css,
    )
    .unwrap();
    w.write_record(
        "revisit",
        &[("WARC-Target-URI", "https://s.example/a"), http_ct],
        b"HTTP/1.1 200 OK\r\n\r\n",
    )
    .unwrap();
    w.write_record(
        "metadata",
        &[
            ("WARC-Target-URI", "https://s.example/a"),
            ("Content-Type", "application/warc-fields"),
        ],
        b"outlink: https://s.example/c\r\n",
    )
    .unwrap();
    // Chunked and gzip-encoded, as wget records the wire bytes.
    let body = gzip(undisclosed_page("C").as_bytes());
    let mut chunked = format!("{:x}\r\n", body.len()).into_bytes();
    chunked.extend_from_slice(&body);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let c = http(
        "200 OK",
        &[
            ("Content-Type", "text/html"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Encoding", "gzip"),
        ],
        &chunked,
    );
    w.write_record(
        "response",
        &[("WARC-Target-URI", "https://s.example/c"), http_ct],
        &c,
    )
    .unwrap();
    // No Content-Type: sniffed as HTML.
    let d = http("200 OK", &[], undisclosed_page("D").as_bytes());
    w.write_record(
        "response",
        &[("WARC-Target-URI", "https://s.example/d"), http_ct],
        &d,
    )
    .unwrap();
    std::mem::take(w.get_mut())
}

#[test]
fn audits_200_html_responses_in_file_order_and_counts_the_rest() {
    let dir = temp_dir("sample");
    let file = dir.join("sample.warc");
    std::fs::write(&file, sample_warc(false)).unwrap();
    let out = run(bin()
        .arg("warc")
        .arg(&file)
        .arg("--output")
        .arg(dir.join("r.csv")));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = rows(&std::fs::read_to_string(dir.join("r.csv")).unwrap());
    assert_eq!(
        report[0].join(","),
        "page_url,rule,severity,link_url,network,link_text,line,disclosure_excerpt,message"
    );
    assert_eq!(
        page_urls(&report),
        [
            "https://s.example/a",
            "https://s.example/c",
            "https://s.example/d"
        ]
    );
    assert!(
        report[1..]
            .iter()
            .any(|r| r[1] == "undisclosed" && r[3] == AMAZON)
    );
    let err = stderr(&out);
    for part in [
        "3 pages (2 skipped, 0 failed)",
        "9 WARC records",
        "metadata 1",
        "non-200 1",
        "non-HTML 1",
        "request 1",
        "revisit 1",
        "warcinfo 1",
    ] {
        assert!(err.contains(part), "{part:?} not in {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gzip_files_and_standard_input_give_the_same_report() {
    let dir = temp_dir("gz");
    let plain = dir.join("s.warc");
    let gz = dir.join("s.warc.gz");
    std::fs::write(&plain, sample_warc(false)).unwrap();
    std::fs::write(&gz, sample_warc(true)).unwrap();
    let a = run(bin().arg("warc").arg(&plain).arg("-q"));
    let b = run(bin().arg("warc").arg(&gz).arg("-q"));
    let mut child = bin()
        .args(["warc", "-", "-q", "-j", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let data = std::fs::read(&gz).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&data));
    let c = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    // Standard output is not a terminal here: CSV.
    assert!(a.stdout.starts_with(b"page_url,rule,"));
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout, c.stdout);
    assert!(a.stderr.is_empty() && c.stderr.is_empty(), "{}", stderr(&c));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Records one page each, gzip member by member; returns the bytes and the member offsets.
fn members(pages: &[&str]) -> (Vec<u8>, Vec<u64>) {
    let mut w = WarcWriter::new(Vec::new(), true);
    let mut offsets = Vec::new();
    for p in pages {
        offsets.push(w.get_mut().len() as u64);
        let block = http(
            "200 OK",
            &[("Content-Type", "text/html")],
            undisclosed_page(p).as_bytes(),
        );
        w.write_response(&format!("https://s.example/{p}"), &block, None)
            .unwrap();
    }
    (std::mem::take(w.get_mut()), offsets)
}

#[test]
fn a_damaged_gzip_member_is_reported_with_its_offset_and_the_rest_is_read() {
    let dir = temp_dir("damaged");
    let (mut data, offsets) = members(&["p1", "p2", "p3", "p4"]);
    // Flip bytes inside the deflate data of the third member.
    let (from, to) = (offsets[2] as usize + 30, offsets[3] as usize - 12);
    for b in &mut data[from..to] {
        *b ^= 0x55;
    }
    let file = dir.join("d.warc.gz");
    std::fs::write(&file, &data).unwrap();
    let out = run(bin().arg("warc").arg(&file));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}: record in the gzip member at byte {}: corrupt gzip data",
            file.display(),
            offsets[2]
        )),
        "{err}"
    );
    let report = rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(
        page_urls(&report),
        [
            "https://s.example/p1",
            "https://s.example/p2",
            "https://s.example/p4"
        ]
    );
    assert!(err.contains("3 pages (0 skipped, 1 failed)"), "{err}");
    assert!(err.contains("WARC records, 1 damaged"), "{err}");

    // Cut off in the middle of the last member.
    std::fs::write(&file, &data[..offsets[3] as usize + 40]).unwrap();
    let out = run(bin().arg("warc").arg(&file));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("record in the gzip member at byte {}", offsets[3])),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_plain_record_is_skipped_by_scanning_for_the_next_record() {
    let dir = temp_dir("plain-damaged");
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for p in ["p1", "p2", "p3"] {
        offsets.push(data.len());
        let mut w = WarcWriter::new(Vec::new(), false);
        let block = http(
            "200 OK",
            &[("Content-Type", "text/html")],
            undisclosed_page(p).as_bytes(),
        );
        w.write_response(&format!("https://s.example/{p}"), &block, None)
            .unwrap();
        data.extend_from_slice(w.get_mut());
    }
    // Break the Content-Length of the second record.
    let text = String::from_utf8(data).unwrap();
    let second = offsets[1];
    let at = second + text[second..].find("Content-Length: ").unwrap();
    let mut text = text;
    text.replace_range(at..at + "Content-Length: ".len(), "Content-Length: x");
    let file = dir.join("p.warc");
    std::fs::write(&file, text).unwrap();
    let out = run(bin().arg("warc").arg(&file));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}: record at byte {second}: missing or invalid Content-Length",
            file.display()
        )),
        "{err}"
    );
    let report = rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(
        page_urls(&report),
        ["https://s.example/p1", "https://s.example/p3"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_file_is_named_and_the_others_are_read() {
    let dir = temp_dir("missing");
    let file = dir.join("s.warc.gz");
    std::fs::write(&file, sample_warc(true)).unwrap();
    let missing = dir.join("nope.warc.gz");
    let out = run(bin().arg("warc").arg(&missing).arg(&file));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("{}: no such file", missing.display())),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        page_urls(&rows(&String::from_utf8(out.stdout).unwrap())).len(),
        3
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pages_over_the_limit_are_skipped_and_counted() {
    let dir = temp_dir("large");
    let file = dir.join("s.warc");
    std::fs::write(&file, sample_warc(false)).unwrap();
    let out =
        run(bin()
            .arg("warc")
            .arg(&file)
            .args(["--max-page-bytes", "50", "--fail-on", "never"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("0 pages (5 skipped, 0 failed)") && err.contains("too large 3"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// crawl --warc round trip

/// Path, status, headers and body of one scripted response.
type Route<'a> = (&'a str, u16, Vec<(&'a str, String)>, Vec<u8>);

/// Status, headers and body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

struct Site {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

/// Serves `routes` (path → (status, headers, body)) with axum on 127.0.0.1:0 in background threads.
fn serve(routes: Vec<Route>) -> Site {
    use axum::body::Body;
    use axum::extract::Request;
    use axum::response::Response;
    let table: Arc<HashMap<String, Answer>> = Arc::new(
        routes
            .into_iter()
            .map(|(p, s, h, b)| {
                let h = h.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                (p.to_string(), (s, h, b))
            })
            .collect(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let router = axum::Router::new().fallback(move |req: Request| {
        let table = Arc::clone(&table);
        async move {
            let key = req
                .uri()
                .path_and_query()
                .map_or("/".to_string(), |p| p.as_str().to_string());
            let (status, headers, body) = table.get(&key).cloned().unwrap_or((
                404,
                vec![("Content-Type".into(), "text/html".into())],
                b"<p>no</p>".to_vec(),
            ));
            let mut resp = Response::builder().status(status);
            for (k, v) in headers {
                resp = resp.header(k, v);
            }
            resp.body(Body::from(body)).unwrap()
        }
    });
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Site {
        addr,
        _runtime: runtime,
    }
}

fn site() -> Site {
    let html = |b: String| {
        (
            vec![("Content-Type", "text/html; charset=utf-8".to_string())],
            b.into_bytes(),
        )
    };
    let index = format!(
        "<html><body><p>{DISCLOSURE}</p><a href=\"/a\">A</a> <a href=\"/b\">B</a> \
         <a href=\"/old\">old</a> <a href=\"/missing\">gone</a> <a href=\"/feed\">feed</a> \
         <a href=\"{AMAZON}\">Buy</a></body></html>"
    );
    let a = format!(
        "<html><body><p><a href=\"{AMAZON}\">Buy</a></p><p>{DISCLOSURE}</p>\
         <a href=\"/c\">C</a></body></html>"
    );
    let b = "<html><body><p>Sponsored: <a rel=\"sponsored\" href=\"https://shop.example/x\">deal</a></p>\
             <a href=\"https://click.linksynergy.com/deeplink?id=abc&mid=1&murl=x\">Rakuten</a></body></html>"
        .to_string();
    let c = undisclosed_page("C");
    // Served gzip-encoded: the archive must hold the decoded body and consistent headers.
    let (c_headers, c_body) = (
        vec![
            ("Content-Type", "text/html".to_string()),
            ("Content-Encoding", "gzip".to_string()),
        ],
        gzip(c.as_bytes()),
    );
    let (ih, ib) = html(index);
    let (ah, ab) = html(a);
    let (bh, bb) = html(b);
    let (nh, nb) = html(undisclosed_page("new"));
    serve(vec![
        ("/", 200, ih, ib),
        ("/a", 200, ah, ab),
        ("/b", 200, bh, bb),
        ("/c", 200, c_headers, c_body),
        (
            "/old",
            301,
            vec![("Location", "/new".to_string())],
            Vec::new(),
        ),
        ("/new", 200, nh, nb),
        (
            "/feed",
            200,
            vec![("Content-Type", "application/rss+xml".to_string())],
            b"<rss/>".to_vec(),
        ),
        (
            "/robots.txt",
            200,
            vec![("Content-Type", "text/plain".to_string())],
            b"User-agent: *\nAllow: /\n".to_vec(),
        ),
    ])
}

fn sorted_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = rows(&std::fs::read_to_string(path).unwrap());
    let header = r.remove(0);
    r.sort();
    r.insert(0, header);
    r
}

#[test]
fn crawl_warc_reaudits_to_the_same_rows() {
    let site = site();
    let dir = temp_dir("roundtrip");
    let start = format!("http://{}/", site.addr);
    for name in ["site.warc.gz", "site.warc"] {
        let warc = dir.join(name);
        let crawl_csv = dir.join(format!("{name}.crawl.csv"));
        let warc_csv = dir.join(format!("{name}.warc.csv"));
        let out = run(bin()
            .args(["crawl", &start, "-q", "--warc"])
            .arg(&warc)
            .arg("--output")
            .arg(&crawl_csv));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let out = run(bin().arg("warc").arg(&warc).arg("--output").arg(&warc_csv));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let crawl_rows = sorted_rows(&crawl_csv);
        assert!(crawl_rows.len() > 4, "{crawl_rows:?}");
        assert_eq!(crawl_rows, sorted_rows(&warc_csv));
        // 5 pages audited; the redirect is archived too; the feed (not HTML) and the 404 page are
        // not read, so not archived.
        let err = stderr(&out);
        assert!(err.contains("5 pages (1 skipped, 0 failed)"), "{err}");
        assert!(
            err.contains("7 WARC records") && err.contains("non-200 1"),
            "{err}"
        );

        // The gzip-encoded page is stored decoded, with headers that say so.
        let data = std::fs::read(&warc).unwrap();
        assert_eq!(name.ends_with(".gz"), data.starts_with(&[0x1f, 0x8b]));
        let c_uri = format!("{start}c");
        let c = WarcReader::new(&data[..])
            .unwrap()
            .map(Result::unwrap)
            .find(|r| r.headers.target_uri() == Some(c_uri.as_str()))
            .expect("the record of /c");
        let block = c.block.unwrap();
        let text = String::from_utf8_lossy(&block);
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            !head.to_ascii_lowercase().contains("content-encoding"),
            "{head}"
        );
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{head}"
        );
        assert_eq!(body, undisclosed_page("C"));
        assert_eq!(
            c.headers.get("Content-Type"),
            Some("application/http; msgtype=response")
        );
        assert!(
            c.headers
                .get("WARC-Record-ID")
                .unwrap()
                .starts_with("<urn:uuid:")
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_resumed_crawl_appends_to_its_warc() {
    let site = site();
    let dir = temp_dir("resume");
    let start = format!("http://{}/", site.addr);
    let warc = dir.join("site.warc.gz");
    let crawl = |dir: &Path| {
        run(bin()
            .args(["crawl", &start, "-q", "--warc"])
            .arg(&warc)
            .arg("--state")
            .arg(dir.join("crawl.state"))
            .arg("--output")
            .arg(dir.join("crawl.csv")))
    };
    assert_eq!(crawl(&dir).status.code(), Some(1));
    let first = std::fs::read(&warc).unwrap();
    // A finished crawl run again resumes with nothing left to fetch: the WARC gains a warcinfo.
    crawl(&dir);
    let second = std::fs::read(&warc).unwrap();
    assert!(second.len() > first.len() && second.starts_with(&first));
    let types: Vec<String> = WarcReader::new(&second[..])
        .unwrap()
        .map(|r| r.unwrap().headers.warc_type())
        .collect();
    assert_eq!(
        types.iter().filter(|t| *t == "warcinfo").count(),
        2,
        "{types:?}"
    );
    let out = run(bin()
        .arg("warc")
        .arg(&warc)
        .arg("--output")
        .arg(dir.join("w.csv")));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        sorted_rows(&dir.join("crawl.csv")),
        sorted_rows(&dir.join("w.csv"))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
