//! `affcheck check URL…` against a tiny HTTP/1.1 server that each test starts on 127.0.0.1.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{Csv, TempDir, check, page, run};

// ---------------------------------------------------------------------------------------------
// Test server: a fixed map path → response; one request per connection (`Connection: close`).

#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Wait this long before answering (for time-outs).
    delay: Duration,
    /// Send the body one byte at a time with this pause between bytes (a server that drips).
    drip: Option<Duration>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
            drip: None,
        }
    }

    fn html(body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(200, "text/html; charset=utf-8", body)
    }

    fn redirect(status: u16, location: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
            delay: Duration::ZERO,
            drip: None,
        }
    }
}

struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

/// At most this many connections are served; the server stops by itself after them.
const MAX_CONNECTIONS: usize = 64;

impl Server {
    fn start(routes: &[(&str, Reply)]) -> Server {
        let routes: Arc<HashMap<String, Reply>> = Arc::new(
            routes
                .iter()
                .map(|(path, reply)| (path.to_string(), reply.clone()))
                .collect(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming().take(MAX_CONNECTIONS) {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let routes = Arc::clone(&routes);
                std::thread::spawn(move || serve(stream, &routes));
            }
        });
        Server {
            addr,
            stop,
            accept: Some(accept),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve(mut stream: TcpStream, routes: &HashMap<String, Reply>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let target = request.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or(target);
    let reply = routes
        .get(path)
        .cloned()
        .unwrap_or_else(|| Reply::new(404, "text/html", "<h1>Not found</h1>"));
    std::thread::sleep(reply.delay);

    let reason = match reply.status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    match reply.drip {
        None => {
            let _ = stream.write_all(&reply.body);
        }
        Some(pause) => {
            for byte in &reply.body {
                if stream
                    .write_all(&[*byte])
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return;
                }
                std::thread::sleep(pause);
            }
        }
    }
    let _ = stream.flush();
}

/// `check ARGS… --inventory FILE`: the run and the inventory.
fn check_with_inventory(args: &[&str]) -> (common::Run, Csv) {
    let tmp = TempDir::new("http-inventory");
    let inventory = tmp.path().join("links.csv");
    let run = run(check(args).arg("--inventory").arg(&inventory));
    let inventory = Csv::read(&inventory);
    (run, inventory)
}

// ---------------------------------------------------------------------------------------------

#[test]
fn url_target_is_reported_by_its_url_and_relative_links_resolve_against_it() {
    let post = page(
        "utf-8",
        r#"<p>Tubeless or not, these are fast:
<a href="../../go/gravelking-sk/">Panaracer GravelKing SK</a>,
<a href="/recommends/vittoria-terreno-dry/">Vittoria Terreno Dry</a> and
<a href="https://www.amazon.com/dp/B0TESTHTTP?tag=spokechain-20&amp;th=1">Schwalbe G-One R</a>.
Our <a href="../workshop/">workshop notes</a> explain the set-up.</p>"#,
    );
    let server = Server::start(&[("/reviews/gravel/tyres.html", Reply::html(post))]);
    let url = server.url("/reviews/gravel/tyres.html");

    let run = run(&mut check([url.as_str()]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.report();
    let undisclosed = report.rows_where("rule", "undisclosed");
    assert!(undisclosed.iter().all(|row| row["page_url"] == url));
    let links: BTreeSet<&str> = undisclosed
        .iter()
        .map(|row| row["link_url"].as_str())
        .collect();
    assert_eq!(
        links,
        BTreeSet::from([
            server.url("/go/gravelking-sk/").as_str(),
            server.url("/recommends/vittoria-terreno-dry/").as_str(),
            "https://www.amazon.com/dp/B0TESTHTTP?tag=spokechain-20&th=1",
        ])
    );
}

#[test]
fn http_error_exits_2_naming_the_url_and_other_urls_are_still_audited() {
    let post = page(
        "utf-8",
        r#"<p><a href="https://www.amazon.com/dp/B0TEST404A?tag=spokechain-20">Crankbrothers Klic</a></p>"#,
    );
    let server = Server::start(&[("/still-here.html", Reply::html(post))]);
    let gone = server.url("/deleted-post.html");
    let here = server.url("/still-here.html");

    let run = run(&mut check([gone.as_str(), here.as_str()]));
    assert_eq!(run.code, 2);
    let error = run
        .stderr_lines()
        .into_iter()
        .find(|line| line.contains(&gone))
        .unwrap_or_else(|| panic!("no error naming {gone}:\n{}", run.stderr));
    assert!(error.contains("404"), "{error}");

    let report = run.report();
    let row = report.row_where("rule", "undisclosed");
    assert_eq!(row["page_url"], here);
}

#[test]
fn unreachable_server_exits_2_naming_the_url() {
    // A port that was free a moment ago: nothing listens there now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/best-tents/");
    let run = run(&mut check([url.as_str()]));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&url), "{}", run.stderr);
}

#[test]
fn slow_server_hits_the_timeout() {
    let mut slow = Reply::html(page("utf-8", "<p>Finally.</p>"));
    slow.delay = Duration::from_secs(4);
    let server = Server::start(&[("/slow.html", slow)]);
    let url = server.url("/slow.html");

    let started = Instant::now();
    let run = run(&mut check([url.as_str(), "--timeout", "1"]));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
}

/// `--timeout` bounds the whole request, body included: a server that answers at once and then
/// drips its page a byte at a time cannot keep `check` busy.
#[test]
fn a_dripping_server_is_cut_off_at_the_timeout() {
    let mut drip = Reply::html(page("utf-8", "<p>Every byte takes its time.</p>"));
    drip.drip = Some(Duration::from_millis(300));
    let server = Server::start(&[("/drip.html", drip)]);
    let url = server.url("/drip.html");

    let started = Instant::now();
    let run = run(&mut check([url.as_str(), "--timeout", "2"]));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}: the body kept the request alive past --timeout",
        started.elapsed()
    );
    let line = run
        .stderr_lines()
        .into_iter()
        .find(|l| l.contains(url.as_str()))
        .unwrap_or_else(|| panic!("no line names {url}:\n{}", run.stderr));
    assert!(line.contains("--timeout"), "{line}");
}

#[test]
fn responses_that_are_not_html_are_skipped_with_a_note() {
    let server = Server::start(&[
        (
            "/wp-content/uploads/hero.png",
            Reply::new(200, "image/png", &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..]),
        ),
        (
            "/wp-json/wp/v2/posts",
            Reply::new(
                200,
                "application/json",
                r#"{"link":"https://www.amazon.com/dp/B0X?tag=x-20"}"#,
            ),
        ),
    ]);
    let png = server.url("/wp-content/uploads/hero.png");
    let json = server.url("/wp-json/wp/v2/posts");

    let run = run(&mut check([png.as_str(), json.as_str()]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.report().rows.is_empty());
    for url in [&png, &json] {
        let note = run
            .stderr_lines()
            .into_iter()
            .find(|line| line.contains(url.as_str()))
            .unwrap_or_else(|| panic!("no note about {url}:\n{}", run.stderr));
        assert!(note.contains("skipped"), "{note}");
    }
}

#[test]
fn charset_of_the_content_type_header_decodes_latin_1_pages() {
    // No <meta charset>: only the header says how to read the bytes.
    let html = "<!DOCTYPE html><html><head><title>Regenhosen</title></head><body>\n\
        <p><strong>Werbung:</strong> Wir erhalten eine Vergütung für Käufe über die Links auf dieser Seite.</p>\n\
        <p><a href=\"https://www.radladen.example/\">Radladen</a> hat die \
        <a href=\"https://www.awin1.com/cread.php?awinmid=13380&amp;awinaffid=112233\">Vaude Drop Pants</a> günstig.</p>\n\
        </body></html>";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(html);
    assert!(!unmappable);
    assert!(bytes.contains(&0xFC), "ü is one latin-1 byte");
    let server = Server::start(&[(
        "/de/regenhosen.html",
        Reply::new(200, "text/html; charset=iso-8859-1", bytes.into_owned()),
    )]);

    let (run, inventory) = check_with_inventory(&[server.url("/de/regenhosen.html").as_str()]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let row = inventory.row_where("network", "Awin");
    assert_eq!(row["status"], "compliant");
    assert_eq!(row["disclosure_strength"], "explicit");
    assert!(
        row["disclosure_excerpt"].contains("Vergütung für Käufe"),
        "{row:?}"
    );
}

#[test]
fn charset_of_the_content_type_header_is_used_even_when_windows_1252_would_also_decode() {
    // In ISO-8859-2 0xB1 is ą and 0xEA is ę; read as windows-1252 they would be ± and ê.
    let html = "<!DOCTYPE html><html><head><title>Trenażer</title></head><body>\n\
        <p>Jako Partner Amazon zarabiam na kwalifikujących się zakupach.</p>\n\
        <p><a href=\"https://www.amazon.pl/dp/B0TESTPL02?tag=spokechain-21\">Zobacz na Amazon</a></p>\n\
        </body></html>";
    let (bytes, _, unmappable) = encoding_rs::ISO_8859_2.encode(html);
    assert!(!unmappable);
    let server = Server::start(&[(
        "/pl/trenazer.html",
        Reply::new(200, "text/html; charset=ISO-8859-2", bytes.into_owned()),
    )]);

    let (run, inventory) = check_with_inventory(&[server.url("/pl/trenazer.html").as_str()]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        inventory.rows[0]["disclosure_excerpt"].contains("kwalifikujących się"),
        "{:?}",
        inventory.rows[0]
    );
}

#[test]
fn redirects_are_followed_and_relative_links_resolve_against_the_final_url() {
    // From /2023/05/old-slug/, `../go/ergon-gp3/` would be /2023/05/go/ergon-gp3/ (no redirect
    // folder); from the final /reviews/grips.html it is the site's /go/ergon-gp3/.
    let post = page(
        "utf-8",
        r#"<p>The <a href="../go/ergon-gp3/">Ergon GP3 grips</a> fixed our numb hands.</p>"#,
    );
    let server = Server::start(&[
        (
            "/2023/05/old-slug/",
            Reply::redirect(301, "/reviews/grips.html"),
        ),
        ("/reviews/grips.html", Reply::html(post)),
    ]);
    let requested = server.url("/2023/05/old-slug/");

    let run = run(&mut check([requested.as_str()]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.report();
    let row = report.row_where("rule", "undisclosed");
    assert_eq!(row["link_url"], server.url("/go/ergon-gp3/"));
    // The row keeps the URL the user asked for, so it can be matched to the input list.
    assert_eq!(row["page_url"], requested);
}

#[test]
fn explain_url_resolves_cloaked_links_like_check() {
    let post = page(
        "utf-8",
        r#"<p>We earn a commission when you buy through links on this page.</p>
<p>Our pick: <a href="/go/tent/">the tent</a> and <a href="/go/plain/">the shop</a>.</p>"#,
    );
    let server = Server::start(&[
        ("/post.html", Reply::html(post)),
        (
            "/go/tent/",
            Reply::redirect(302, "https://www.amazon.com/dp/B0TENT?tag=site-20"),
        ),
        ("/go/plain/", Reply::redirect(302, "https://shop.example/")),
    ]);
    let url = server.url("/post.html");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_affcheck"));
    cmd.args(["explain", url.as_str(), "--format", "json"]);
    let r = run(&mut cmd);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stderr);
    let links = v["links"].as_array().unwrap();
    // The plain shop redirect is no affiliate link; the one to Amazon is, and is disclosed.
    assert_eq!(links.len(), 1, "{v:#}");
    assert_eq!(links[0]["network"], "Amazon Associates");
    assert_eq!(
        links[0]["destination"],
        "https://www.amazon.com/dp/B0TENT?tag=site-20"
    );
    assert_eq!(links[0]["status"], "compliant");
    assert_eq!(
        links[0]["deciding"]["line"],
        v["links"][0]["line"].as_u64().unwrap() - 1
    );
}
