//! The hostile-site suite: `affcheck` against servers and pages built to hurt a crawler, all on
//! 127.0.0.1 and started by the tests. Every case asserts that the run ends within the watchdog of
//! `crawl_support`, that the bad URL gets a clear error row (or a correct audit) and that every
//! good page is still audited.

mod common;
mod crawl_support;

use std::collections::BTreeSet;

use std::process::Command;

use crawl_support::{
    DISCLOSURE, Outcome, Reply, Site, TempDir, crawl_site, links, page, sitemap_index,
    undisclosed_body, urlset,
};

/// `n` nested `<div>`s around an undisclosed Amazon link: html5ever alone rescans its stack of
/// open elements for every start tag, so such pages cost O(n²) unless nesting is capped.
fn deeply_nested_page(n: usize) -> String {
    format!(
        "{}{}{}",
        "<div>".repeat(n),
        undisclosed_body(&[]),
        "</div>".repeat(n)
    )
}

/// The pages of `paths` on `site`.
fn urls(site: &Site, paths: &[String]) -> BTreeSet<String> {
    paths.iter().map(|p| site.url(p)).collect()
}

#[test]
fn deeply_nested_pages_are_audited_quickly_and_do_not_stall_the_others() {
    // Two 1.1 MB pages of 100,000 nested elements (a minute each before nesting was capped) among
    // 30 ordinary ones, with a request time-out shorter than such an audit used to take.
    let site = Site::start();
    let good: Vec<String> = (0..30).map(|i| format!("/post-{i}")).collect();
    let deep = ["/deep-1".to_string(), "/deep-2".to_string()];
    let mut home: Vec<&str> = deep.iter().map(String::as_str).collect();
    home.extend(good.iter().map(String::as_str));
    site.page("/", &links(&home));
    for path in &deep {
        site.reply(path, Reply::html(page(&deeply_nested_page(100_000))));
    }
    for path in &good {
        site.page(path, &undisclosed_body(&[]));
    }
    let dir = TempDir::new("hostile-deep");
    let out = crawl_site(
        &dir,
        &[&site.url("/"), "--concurrency", "4", "--timeout", "3"],
    );
    out.assert_no_errors();
    let mut expected = urls(&site, &good);
    expected.extend(urls(&site, &deep));
    assert_eq!(out.undisclosed_pages(), expected, "{}", out.dump());
    for path in good.iter().chain(&deep) {
        assert_eq!(site.count(path), 1, "{path} fetched again: {}", out.dump());
    }
}

// ---------------------------------------------------------------------------------------------
// Steering: robots.txt, sitemaps and redirects pointing elsewhere

#[test]
fn robots_and_sitemaps_cannot_steer_the_crawl_to_another_address() {
    // The audited site names sitemaps on 127.0.0.2, a host nobody asked to crawl, in robots.txt,
    // in its sitemap index and as a sitemap redirect. None of them may be requested.
    let site = Site::start();
    let elsewhere = Site::start_on("127.0.0.2");
    elsewhere.reply(
        "/sitemap.xml",
        Reply::typed("application/xml", urlset(&[elsewhere.url("/victim")])),
    );
    site.reply(
        "/robots.txt",
        Reply::typed(
            "text/plain",
            format!(
                "User-agent: *\nDisallow: /private/\n\nSitemap: {}\nSitemap: {}\n",
                elsewhere.url("/sitemap.xml"),
                site.url("/index.xml")
            ),
        ),
    );
    site.reply(
        "/index.xml",
        Reply::typed(
            "application/xml",
            sitemap_index(&[
                elsewhere.url("/sitemap.xml"),
                site.url("/moved.xml"),
                site.url("/to-private.xml"),
                site.url("/pages.xml"),
            ]),
        ),
    );
    site.reply(
        "/moved.xml",
        Reply::redirect(302, &elsewhere.url("/sitemap.xml")),
    );
    site.reply(
        "/to-private.xml",
        Reply::redirect(302, &site.url("/private/sitemap.xml")),
    );
    site.reply(
        "/private/sitemap.xml",
        Reply::typed("application/xml", urlset(&[site.url("/secret")])),
    );
    site.reply(
        "/pages.xml",
        Reply::typed("application/xml", urlset(&[site.url("/orphan")])),
    );
    site.page("/", "<p>Home.</p>");
    site.page("/orphan", &undisclosed_body(&[]));
    let dir = TempDir::new("hostile-steer");
    let out = crawl_site(&dir, &[&site.url("/"), "--max-depth", "0"]);

    assert_eq!(
        elsewhere.total(),
        0,
        "requests to 127.0.0.2: {:?}",
        elsewhere.hits()
    );
    assert_eq!(
        site.count("/private/sitemap.xml"),
        0,
        "robots.txt disallows it"
    );
    assert_eq!(
        out.undisclosed_pages(),
        BTreeSet::from([site.url("/orphan")]),
        "{}",
        out.dump()
    );
    // The refused redirects are errors naming why; the refused sitemap URLs are named too.
    let errors: Vec<(String, String)> = out
        .errors
        .rows
        .iter()
        .map(|r| (r["url"].clone(), r["error"].clone()))
        .collect();
    assert!(
        errors
            .iter()
            .any(|(u, e)| *u == site.url("/moved.xml") && e.contains("outside the crawl scope")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|(u, e)| *u == site.url("/to-private.xml")
                && e.contains("disallowed by robots.txt")),
        "{errors:?}"
    );
    assert!(
        out.run.stderr.contains("sitemaps outside the scope"),
        "summary names them: {}",
        out.run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// The private-network guard

fn check_url(args: &[&str]) -> common::Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_affcheck"));
    cmd.arg("check").args(args);
    common::run(&mut cmd)
}

#[test]
fn check_refuses_redirects_to_internal_addresses_nobody_named() {
    let site = Site::start();
    let internal = Site::start_on("127.0.0.2");
    internal.page("/admin", &format!("<p>{DISCLOSURE}</p>"));
    site.reply(
        "/to-internal",
        Reply::redirect(302, &internal.url("/admin")),
    );
    site.reply(
        "/to-metadata",
        Reply::redirect(302, "http://169.254.169.254/latest/meta-data/"),
    );
    site.page("/fine", &undisclosed_body(&[]));

    let run = check_url(&[
        &site.url("/to-internal"),
        &site.url("/to-metadata"),
        &site.url("/fine"),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(internal.total(), 0, "the internal server was contacted");
    for target in ["127.0.0.2", "169.254.169.254"] {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains(target) && l.contains("--allow-private")),
            "a refusal naming {target} and --allow-private: {}",
            run.stderr
        );
    }
    // The good URL is still audited.
    assert!(run.stdout.contains(&site.url("/fine")), "{}", run.stdout);

    let allowed = check_url(&["--allow-private", &site.url("/to-internal")]);
    assert_eq!(allowed.code, 0, "{allowed:?}");
    assert_eq!(internal.count("/admin"), 1);
}

// ---------------------------------------------------------------------------------------------
// Overloaded servers

#[test]
fn a_429_holds_back_every_request_to_the_host_and_long_waits_are_capped() {
    // /busy asks for an hour's pause; --retry-after-max 1 caps it, and the pause applies to the
    // host's other pages too, not only to /busy's retry. The other pages are found on /next, which
    // answers slowly: with one request at a time to the host, /busy is asked before any of them
    // (requests that start together may go in any order).
    let site = Site::start();
    let others = ["/a", "/b", "/c"];
    site.page("/", &links(&["/busy", "/next"]));
    site.reply(
        "/next",
        Reply::html(page(&links(&others))).delay(std::time::Duration::from_millis(200)),
    );
    let body = page(&undisclosed_body(&[]));
    let b = body.clone();
    site.route("/busy", move |n| {
        if n == 0 {
            Reply::new(429)
                .header("Retry-After", "3600")
                .header("Content-Type", "text/plain")
                .body("slow down")
        } else {
            Reply::html(b.clone())
        }
    });
    for p in others {
        site.reply(p, Reply::html(body.clone()));
    }
    let dir = TempDir::new("hostile-429");
    let out = crawl_site(
        &dir,
        &[&site.url("/"), "--per-host", "1", "--retry-after-max", "1"],
    );
    out.assert_no_errors();
    let mut expected: BTreeSet<String> = others.iter().map(|p| site.url(p)).collect();
    expected.insert(site.url("/busy"));
    assert_eq!(out.undisclosed_pages(), expected, "{}", out.dump());

    let hits = site.hits();
    let first_429 = hits.iter().position(|h| h.path == "/busy").unwrap();
    let refused_at = hits[first_429].at;
    let later: Vec<_> = hits[first_429 + 1..].iter().collect();
    let mut after: Vec<&str> = later
        .iter()
        .map(|h| h.path.as_str())
        .filter(|p| *p != "/next")
        .collect();
    after.sort();
    assert_eq!(after, ["/a", "/b", "/busy", "/c"], "{hits:?}");
    for h in &later {
        let waited = h.at.duration_since(refused_at);
        assert!(
            waited >= std::time::Duration::from_millis(900),
            "{} started {waited:?} after the 429",
            h.path
        );
    }
    // And the host's gap widened: later requests are spread out, not sent back to back.
    for pair in later.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= std::time::Duration::from_millis(200),
            "{gap:?} between requests after a 429"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Broken replies, from a raw TCP server that answers by path and by how often the path was asked

/// Connections one [`RawServer`] accepts at most; later ones are closed unanswered.
const RAW_MAX_CONNECTIONS: usize = 64;

/// A raw HTTP/1.1 server on 127.0.0.1 whose handler writes whatever it likes to the socket. The
/// accept loop ends with the test (the listener is non-blocking and checks a stop flag), after
/// [`crawl_support::WATCHDOG`] at the latest, and it serves at most [`RAW_MAX_CONNECTIONS`]
/// connections.
struct RawServer {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl RawServer {
    fn start(handler: fn(&str, usize, &mut std::net::TcpStream)) -> RawServer {
        use std::io::Read;
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            let counts = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
                String,
                usize,
            >::new()));
            let started = std::time::Instant::now();
            let mut accepted = 0;
            while !flag.load(Ordering::SeqCst) && started.elapsed() < crawl_support::WATCHDOG {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                accepted += 1;
                if accepted > RAW_MAX_CONNECTIONS {
                    continue;
                }
                let counts = counts.clone();
                std::thread::spawn(move || {
                    stream.set_nonblocking(false).unwrap();
                    let mut buf = [0u8; 4096];
                    let n = stream.read(&mut buf).unwrap_or(0);
                    let request = String::from_utf8_lossy(&buf[..n]);
                    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let nth = {
                        let mut c = counts.lock().unwrap();
                        let e = c.entry(path.clone()).or_insert(0);
                        *e += 1;
                        *e - 1
                    };
                    handler(&path, nth, &mut stream);
                });
            }
        });
        RawServer { port, stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

fn broken_replies(path: &str, nth: usize, stream: &mut std::net::TcpStream) {
    use std::io::Write;
    let page = page(&undisclosed_body(&[]));
    let whole = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    match path {
        // The body breaks off half-way the first time; the retry gets all of it.
        "/breaks-off" if nth == 0 => {
            let _ = stream.write_all(&whole.as_bytes()[..whole.len() / 2]);
        }
        // The connection closes before any reply, once.
        "/hangs-up" if nth == 0 => {}
        "/breaks-off" | "/hangs-up" => {
            let _ = stream.write_all(whole.as_bytes());
        }
        // UTF-16 without a byte-order mark, declared only by the header.
        "/utf16" => {
            let body: Vec<u8> = page.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-16le\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
        "/garbage" => {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\xff\xfe\x00garbage\r\n\r\n");
        }
        // Reads the request and never answers.
        "/silent" => std::thread::sleep(std::time::Duration::from_secs(8)),
        _ => {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    }
    let _ = stream.flush();
}

#[test]
fn broken_replies_are_retried_or_reported_and_good_urls_still_audited() {
    let raw = RawServer::start(broken_replies);
    let site = Site::start();
    site.page("/fine", &undisclosed_body(&[]));
    let started = std::time::Instant::now();
    let run = check_url(&[
        "--retries",
        "1",
        "--timeout",
        "2",
        &raw.url("/breaks-off"),
        &raw.url("/hangs-up"),
        &raw.url("/garbage"),
        &raw.url("/silent"),
        &raw.url("/utf16"),
        &site.url("/fine"),
    ]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 2, "{run:?}");
    let audited: BTreeSet<String> = run
        .report()
        .rows_where("rule", "undisclosed")
        .iter()
        .map(|r| r["page_url"].clone())
        .collect();
    assert_eq!(
        audited,
        BTreeSet::from([
            raw.url("/breaks-off"),
            raw.url("/hangs-up"),
            raw.url("/utf16"),
            site.url("/fine")
        ]),
        "retried and good pages are audited: {run:?}"
    );
    let line = |url: String| {
        run.stderr_lines()
            .into_iter()
            .find(|l| l.contains(&url))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no error line for {url}: {}", run.stderr))
    };
    assert!(line(raw.url("/silent")).contains("--timeout"));
    let garbage = line(raw.url("/garbage"));
    assert!(!garbage.contains('\u{0}'), "{garbage}");
}

// ---------------------------------------------------------------------------------------------
// Slowloris: servers that answer a byte at a time

/// Gap between two bytes of a dripping reply: a whole page would take minutes.
const DRIP_GAP: std::time::Duration = std::time::Duration::from_millis(700);

/// Writes `bytes` to `stream` one at a time, [`DRIP_GAP`] apart, until all are out, the client has
/// gone, or the watchdog of `crawl_support` has passed.
fn drip(stream: &mut std::net::TcpStream, bytes: &[u8]) {
    use std::io::Write;
    let started = std::time::Instant::now();
    for b in bytes {
        if stream.write_all(&[*b]).is_err()
            || stream.flush().is_err()
            || started.elapsed() > crawl_support::WATCHDOG
        {
            return;
        }
        std::thread::sleep(DRIP_GAP);
    }
}

/// `/drip-headers` sends its status line and headers a byte at a time; `/drip-body` sends them at
/// once, then the body a byte at a time. Both are pages with an undisclosed link, if one waited.
fn slow_replies(path: &str, _nth: usize, stream: &mut std::net::TcpStream) {
    use std::io::Write;
    let page = page(&undisclosed_body(&[]));
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        page.len()
    );
    match path {
        "/drip-headers" => drip(stream, format!("{head}{page}").as_bytes()),
        "/drip-body" => {
            if stream.write_all(head.as_bytes()).is_ok() && stream.flush().is_ok() {
                drip(stream, page.as_bytes());
            }
        }
        _ => {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    }
}

/// The dripping URLs of `raw`.
fn dripping(raw: &RawServer) -> [String; 2] {
    [raw.url("/drip-headers"), raw.url("/drip-body")]
}

#[test]
fn a_crawl_gives_up_on_dripping_servers_after_timeout_and_audits_the_rest() {
    let raw = RawServer::start(slow_replies);
    let site = Site::start();
    let good: Vec<String> = (0..10).map(|i| format!("/post-{i}")).collect();
    let slow = dripping(&raw);
    let mut home: Vec<&str> = slow.iter().map(String::as_str).collect();
    home.extend(good.iter().map(String::as_str));
    site.page("/", &links(&home));
    for path in &good {
        site.page(path, &undisclosed_body(&[]));
    }
    let dir = TempDir::new("hostile-slowloris");
    let started = std::time::Instant::now();
    let out = crawl_site(&dir, &[&site.url("/"), "--timeout", "2", "--retries", "1"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}: {}",
        started.elapsed(),
        out.dump()
    );
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    assert_eq!(
        out.undisclosed_pages(),
        urls(&site, &good),
        "{}",
        out.dump()
    );
    for url in &slow {
        let row = out.errors.row_where("url", url);
        assert!(
            row["error"].contains("--timeout"),
            "{url}: the error names --timeout: {}",
            out.dump()
        );
    }
    assert_eq!(out.errors.rows.len(), slow.len(), "{}", out.dump());
}

#[test]
fn check_gives_up_on_dripping_servers_after_timeout() {
    let raw = RawServer::start(slow_replies);
    let site = Site::start();
    site.page("/fine", &undisclosed_body(&[]));
    let slow = dripping(&raw);
    let started = std::time::Instant::now();
    let run = check_url(&["--timeout", "2", &slow[0], &slow[1], &site.url("/fine")]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 2, "{run:?}");
    for url in &slow {
        assert!(
            run.stderr_lines()
                .iter()
                .any(|l| l.contains(url.as_str()) && l.contains("--timeout")),
            "an error for {url} naming --timeout: {}",
            run.stderr
        );
    }
    assert_eq!(
        run.report()
            .column("page_url")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([site.url("/fine").as_str()]),
        "{run:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Crawler traps

/// A calendar at `/calendar?month=N` whose every page links to the month before and the month
/// after, forever, beside `/page-0` … `/page-{ordinary-1}` with an undisclosed link each, all
/// linked from the home page (the calendar first, so that it gets ahead in the frontier).
/// Returns the ordinary pages' paths.
fn calendar_site(site: &Site, ordinary: usize) -> Vec<String> {
    let pages: Vec<String> = (0..ordinary).map(|i| format!("/page-{i}")).collect();
    let mut home = vec!["/calendar?month=0"];
    home.extend(pages.iter().map(String::as_str));
    site.page("/", &links(&home));
    for p in &pages {
        site.page(p, &undisclosed_body(&[]));
    }
    site.route_query("/calendar", |query, _| {
        let month: i64 = query
            .and_then(|q| q.strip_prefix("month="))
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        let (next, previous) = (
            format!("/calendar?month={}", month + 1),
            format!("/calendar?month={}", month - 1),
        );
        Reply::html(page(&format!(
            "<h1>Month {month}</h1>\n{}",
            links(&[&previous, &next])
        )))
    });
    pages
}

/// The months of the calendar that `site` was asked for.
fn months_requested(site: &Site) -> BTreeSet<i64> {
    site.hits_to("/calendar")
        .iter()
        .filter_map(|h| h.query.as_deref()?.strip_prefix("month=")?.parse().ok())
        .collect()
}

/// Crawls the calendar site from its home page with `limit` (`--max-pages N` or
/// `--max-depth N`) and checks what every bounded run must give: it ends, no error row, and
/// exactly the ordinary pages reported.
fn crawl_calendar(site: &Site, ordinary: &[String], dir: &TempDir, limit: [&str; 2]) -> Outcome {
    let out = crawl_site(dir, &[&site.url("/"), limit[0], limit[1]]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    out.assert_no_errors();
    assert_eq!(
        out.undisclosed_pages(),
        urls(site, ordinary),
        "{}",
        out.dump()
    );
    out
}

#[test]
fn a_calendar_trap_ends_at_max_pages_with_every_ordinary_page_audited() {
    let site = Site::start();
    let ordinary = calendar_site(&site, 20);
    let max_pages = 60;
    let dir = TempDir::new("hostile-calendar");
    let out = crawl_calendar(
        &site,
        &ordinary,
        &dir,
        ["--max-pages", &max_pages.to_string()],
    );
    // The home page, the ordinary pages and as many months as the cap leaves.
    let months = months_requested(&site);
    assert_eq!(months.len(), max_pages - 1 - ordinary.len(), "{months:?}");
    let summary = out.run.stderr.lines().last().unwrap_or("");
    assert!(
        summary.contains(&format!("{max_pages} pages"))
            && summary.contains("stopped at --max-pages"),
        "the summary says the page cap stopped the crawl: {}",
        out.run.stderr
    );
}

#[test]
fn a_calendar_trap_ends_at_max_depth_with_every_ordinary_page_audited() {
    let site = Site::start();
    let ordinary = calendar_site(&site, 20);
    let max_depth: i64 = 4;
    let dir = TempDir::new("hostile-calendar-depth");
    let out = crawl_calendar(
        &site,
        &ordinary,
        &dir,
        ["--max-depth", &max_depth.to_string()],
    );
    // Month 0 is one step from the home page, and each step reaches one month further.
    let reach = max_depth - 1;
    assert_eq!(
        months_requested(&site),
        (-reach..=reach).collect::<BTreeSet<i64>>(),
        "{}",
        out.dump()
    );
    for (path, n) in site.page_counts() {
        assert!(n == 1 || path == "/calendar", "{path} fetched {n} times");
    }
    assert!(
        !out.run.stderr.contains("--max-pages"),
        "the depth, not the page cap, ended it: {}",
        out.run.stderr
    );
}

#[test]
fn a_page_whose_markup_multiplies_elements_is_skipped_quickly_and_named() {
    // 500 different <b> tags stay active, and text after each closed <div> re-opens them all:
    // under 1 MB of markup that would build some 40 million elements.
    let dir = common::TempDir::new("hostile-reopen");
    let open: String = (0..500).map(|i| format!("<b class=c{i}>")).collect();
    let bomb = dir.write(
        "reopen.html",
        format!(
            "<p>{}</p><div>{open}</div>{}",
            DISCLOSURE,
            "<div>x</div>".repeat(80_000)
        ),
    );
    let good = dir.write(
        "good.html",
        format!(
            "<p><a href=\"https://www.amazon.com/dp/B0GOOD?tag=x-20\">Buy</a></p>{}",
            "<div>x</div>".repeat(80_000)
        ),
    );
    let started = std::time::Instant::now();
    let run = common::run(&mut common::check([&bomb, &good]));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains("reopen.html") && l.contains("skipped") && l.contains("elements")),
        "{}",
        run.stderr
    );
    // The ordinary page beside it is audited as usual.
    let report = run.report();
    let pages: BTreeSet<&str> = report.column("page_url").into_iter().collect();
    assert_eq!(pages, BTreeSet::from([good.to_str().unwrap()]));
    assert!(report.rows_where("rule", "undisclosed").len() == 1);
}
