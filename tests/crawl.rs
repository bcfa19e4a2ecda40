//! End-to-end tests of `affcheck crawl`: the built binary against real HTTP servers started on
//! 127.0.0.1 inside each test (see `crawl_support`), asserting what a user sees: the report and
//! errors files, the exit status, the summary, and which requests reached the site.

mod common;
mod crawl_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crawl_support::{
    AMAZON, Csv, DISCLOSURE, REPORT_HEADER, Reply, Site, TempDir, args, crawl, crawl_site, gzip,
    links, page, sitemap_index, spawn, undisclosed_body, urlset,
};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Set of strings from string slices.
fn set(items: &[String]) -> BTreeSet<String> {
    items.iter().cloned().collect()
}

fn gap(a: Instant, b: Instant) -> Duration {
    if b > a { b - a } else { a - b }
}

/// A `[severity]` override in affcheck.toml decides the exit status of a crawl as it does for
/// `check`: a warning raised to error fails the run, and the report shows the new severity.
#[test]
fn config_severity_overrides_decide_the_crawl_exit_status() {
    let site = Site::start();
    // Disclosed, but without Amazon's statement: only an amazon-statement-missing warning.
    site.page(
        "/",
        &format!(
            "<p>We earn a commission if you buy through links on this page.</p>\n<p><a href=\"{AMAZON}\">Buy</a></p>"
        ),
    );
    let dir = TempDir::new("severity-override");
    let out = crawl_site(&dir, &[&site.url("/")]);
    assert_eq!(
        out.run.code,
        Some(0),
        "a warning does not fail: {}",
        out.dump()
    );
    std::fs::write(
        dir.path("affcheck.toml"),
        "[severity]\namazon-statement-missing = \"error\"\n",
    )
    .unwrap();
    let out = crawl_site(&dir, &[&site.url("/")]);
    assert_eq!(
        out.run.code,
        Some(1),
        "raised to error, it fails: {}",
        out.dump()
    );
    let row = out.report.rows_where("rule", "amazon-statement-missing");
    assert_eq!(row.len(), 1, "{}", out.dump());
    assert_eq!(row[0]["severity"], "error");
}

// ---------------------------------------------------------------------------------------------
// 1. Basic crawl

#[test]
fn basic_crawl_reports_only_the_undisclosed_page_and_fetches_each_page_once() {
    let site = Site::start();
    let other_host = site.localhost_url("/outbound");
    site.page(
        "/",
        &format!(
            "<h1>Home</h1>\n{}",
            links(&[
                "/a",
                "/b",
                "/c",
                "/d",
                &other_host,
                "https://www.example.org/elsewhere",
            ])
        ),
    );
    site.page("/a", &links(&["/", "/b", "/c", "/a#top"]));
    site.page("/b", &undisclosed_body(&["/d", "/b?"]));
    site.page(
        "/c",
        &format!(
            "<p>{DISCLOSURE}</p>\n<p><a href=\"https://www.amazon.com/dp/B0Y?tag=x-20\">Buy the tent</a></p>\n{}",
            links(&["/a"])
        ),
    );
    site.page("/d", &links(&["/a", "/b", "/"]));
    let dir = TempDir::new("basic");
    let out = crawl_site(&dir, &[&site.url("/")]);

    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    assert_eq!(out.report.header_line(), REPORT_HEADER);
    let undisclosed = out.report.rows_where("rule", "undisclosed");
    assert_eq!(undisclosed.len(), 1, "{}", out.dump());
    assert_eq!(undisclosed[0]["page_url"], site.url("/b"));
    assert_eq!(undisclosed[0]["link_url"], AMAZON);
    assert_eq!(undisclosed[0]["severity"], "error");
    assert_eq!(undisclosed[0]["link_text"], "Buy the shoes");
    // The disclosed page has no row at all; every row is about /b's link (the Amazon
    // statement warning accompanies the undisclosed row).
    for row in &out.report.rows {
        assert_eq!(row["page_url"], site.url("/b"), "{}", out.dump());
        assert_eq!(row["link_url"], AMAZON, "{}", out.dump());
    }
    out.assert_no_errors();

    let expected: BTreeMap<String, usize> = ["/", "/a", "/b", "/c", "/d"]
        .iter()
        .map(|p| (p.to_string(), 1))
        .collect();
    assert_eq!(site.page_counts(), expected, "each page fetched once");
    assert_eq!(site.count("/robots.txt"), 1);
    let host = format!("127.0.0.1:{}", site.port());
    for hit in site.hits() {
        assert_eq!(hit.host, host, "request to another host: {hit:?}");
    }
    assert!(
        out.run.stderr.contains("5 pages"),
        "summary: {}",
        out.run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 2. robots.txt

#[test]
fn robots_disallow_is_obeyed_unless_ignore_robots() {
    let site = Site::start();
    site.reply(
        "/robots.txt",
        Reply::typed("text/plain", "User-agent: *\nDisallow: /private/\n"),
    );
    site.page("/", &links(&["/private/secret", "/public"]));
    site.page("/private/secret", &undisclosed_body(&[]));
    site.page("/public", "<p>Nothing to see.</p>");
    let dir = TempDir::new("robots");

    let out = crawl_site(&dir, &[&site.url("/")]);
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    assert_eq!(site.count("/private/secret"), 0, "disallowed page fetched");
    assert_eq!(site.count("/public"), 1);
    assert!(out.report.rows.is_empty(), "{}", out.dump());
    out.assert_no_errors();
    assert!(
        out.run.stderr.contains("1 blocked by robots.txt"),
        "summary: {}",
        out.run.stderr
    );

    let out = crawl_site(&dir, &[&site.url("/"), "--ignore-robots"]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    assert_eq!(site.count("/private/secret"), 1);
    assert_eq!(
        out.undisclosed_pages(),
        set(&[site.url("/private/secret")]),
        "{}",
        out.dump()
    );
}

#[test]
fn robots_crawl_delay_spaces_requests() {
    let site = Site::start();
    site.reply(
        "/robots.txt",
        Reply::typed("text/plain", "User-agent: *\nCrawl-delay: 1\n"),
    );
    site.page("/", &links(&["/next"]));
    site.page("/next", "<p>The end.</p>");
    let dir = TempDir::new("crawl-delay");
    let out = crawl_site(&dir, &[&site.url("/")]);
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    let first = site.hits_to("/");
    let second = site.hits_to("/next");
    assert_eq!((first.len(), second.len()), (1, 1));
    let g = gap(first[0].at, second[0].at);
    assert!(
        g >= Duration::from_millis(900),
        "Crawl-delay: 1 not honoured: pages {g:?} apart"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Sitemaps

#[test]
fn sitemap_with_max_depth_zero_audits_exactly_the_listed_pages() {
    let site = Site::start();
    site.reply(
        "/sitemap.xml",
        Reply::typed(
            "application/xml",
            urlset(&[
                site.url("/s1"),
                site.url("/s2"),
                site.localhost_url("/foreign"),
            ]),
        ),
    );
    site.page("/", &undisclosed_body(&["/s1"]));
    site.page("/foreign", &undisclosed_body(&[]));
    site.page("/s1", &undisclosed_body(&["/linked"]));
    site.page("/s2", &undisclosed_body(&[]));
    site.page("/linked", &undisclosed_body(&[]));
    let dir = TempDir::new("sitemap");
    let out = crawl_site(
        &dir,
        &["--sitemap", &site.url("/sitemap.xml"), "--max-depth", "0"],
    );
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    assert_eq!(
        out.undisclosed_pages(),
        set(&[site.url("/s1"), site.url("/s2")]),
        "{}",
        out.dump()
    );
    assert_eq!(site.count("/linked"), 0, "a page only linked was fetched");
    assert_eq!(site.count("/"), 0, "a page not listed was fetched");
    assert_eq!(
        site.count("/foreign"),
        0,
        "a listed page on another host was fetched"
    );
    assert_eq!(site.count("/sitemap.xml"), 1);
    out.assert_no_errors();
}

#[test]
fn sitemap_index_with_gzipped_sitemaps_is_followed() {
    let site = Site::start();
    site.reply(
        "/sitemap_index.xml",
        Reply::typed(
            "application/xml",
            sitemap_index(&[site.url("/posts.xml.gz"), site.url("/pages.xml.gz")]),
        ),
    );
    site.reply(
        "/posts.xml.gz",
        Reply::typed(
            "application/gzip",
            gzip(urlset(&[site.url("/post-1"), site.url("/post-2")]).as_bytes()),
        ),
    );
    site.reply(
        "/pages.xml.gz",
        Reply::typed(
            "application/x-gzip",
            gzip(urlset(&[site.url("/about")]).as_bytes()),
        ),
    );
    for p in ["/post-1", "/post-2", "/about"] {
        site.page(p, &undisclosed_body(&[]));
    }
    let dir = TempDir::new("sitemap-gz");
    let out = crawl_site(
        &dir,
        &[
            "--sitemap",
            &site.url("/sitemap_index.xml"),
            "--max-depth",
            "0",
        ],
    );
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    out.assert_no_errors();
    assert_eq!(
        out.undisclosed_pages(),
        set(&[site.url("/post-1"), site.url("/post-2"), site.url("/about")]),
        "{}",
        out.dump()
    );
    assert_eq!(site.count("/posts.xml.gz"), 1);
    assert_eq!(site.count("/pages.xml.gz"), 1);
}

#[test]
fn robots_sitemap_line_is_followed() {
    let site = Site::start();
    site.reply(
        "/robots.txt",
        Reply::typed(
            "text/plain",
            format!(
                "User-agent: *\nAllow: /\n\nSitemap: {}\n",
                site.url("/site-map.xml")
            ),
        ),
    );
    site.reply(
        "/site-map.xml",
        Reply::typed("application/xml", urlset(&[site.url("/orphan")])),
    );
    site.page("/", "<p>Home, linking nowhere.</p>");
    site.page("/orphan", &undisclosed_body(&[]));
    let dir = TempDir::new("robots-sitemap");
    let out = crawl_site(&dir, &[&site.url("/"), "--max-depth", "0"]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    assert_eq!(
        out.undisclosed_pages(),
        set(&[site.url("/orphan")]),
        "{}",
        out.dump()
    );
    assert_eq!(site.count("/site-map.xml"), 1);
    assert_eq!(site.count("/"), 1);
}

/// `--help` promises "Sitemaps named in robots.txt are always read", but the crawler drops them
/// when their URL does not pass `--include`/`--exclude` (filters meant for pages).
#[test]
fn robots_sitemap_is_read_even_when_include_does_not_match_it() {
    let site = Site::start();
    site.reply(
        "/robots.txt",
        Reply::typed(
            "text/plain",
            format!("User-agent: *\nSitemap: {}\n", site.url("/sitemap.xml")),
        ),
    );
    site.reply(
        "/sitemap.xml",
        Reply::typed("application/xml", urlset(&[site.url("/blog/orphan")])),
    );
    site.page("/blog/", "<p>Blog home, linking nowhere.</p>");
    site.page("/blog/orphan", &undisclosed_body(&[]));
    let dir = TempDir::new("robots-sitemap-include");
    let out = crawl_site(&dir, &[&site.url("/blog/"), "--include", "/blog/"]);
    assert_eq!(site.count("/sitemap.xml"), 1, "{}", out.dump());
    assert_eq!(
        out.undisclosed_pages(),
        set(&[site.url("/blog/orphan")]),
        "{}",
        out.dump()
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Scope

#[test]
fn links_to_another_host_are_not_followed() {
    let site = Site::start();
    let other = site.localhost_url("/other");
    site.page("/", &links(&[&other, "/inside"]));
    site.page("/inside", "<p>Inside.</p>");
    site.page("/other", &undisclosed_body(&[]));
    let dir = TempDir::new("scope-host");
    let out = crawl_site(&dir, &[&site.url("/")]);
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    assert_eq!(site.count("/inside"), 1);
    assert_eq!(site.count("/other"), 0, "off-host link followed");
    let host = format!("127.0.0.1:{}", site.port());
    assert!(site.hits().iter().all(|h| h.host == host));
    assert!(out.report.rows.is_empty(), "{}", out.dump());
}

#[test]
fn max_pages_stops_the_crawl() {
    let site = Site::start();
    site.page("/", &undisclosed_body(&["/p1", "/p2", "/p3", "/p4"]));
    for p in ["/p1", "/p2", "/p3", "/p4"] {
        site.page(p, &undisclosed_body(&["/p1", "/p2", "/p3", "/p4"]));
    }
    let dir = TempDir::new("max-pages");
    let out = crawl_site(&dir, &[&site.url("/"), "--max-pages", "2"]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    let fetched: usize = site.page_counts().values().sum();
    assert_eq!(fetched, 2, "pages fetched: {:?}", site.page_counts());
    assert_eq!(out.undisclosed_pages().len(), 2, "{}", out.dump());
    assert!(
        out.run.stderr.contains("2 pages") && out.run.stderr.contains("--max-pages"),
        "summary: {}",
        out.run.stderr
    );
}

#[test]
fn max_depth_limits_link_steps() {
    let site = Site::start();
    site.page("/", &links(&["/d1"]));
    site.page("/d1", &links(&["/d2"]));
    site.page("/d2", &links(&["/d3"]));
    site.page("/d3", "<p>Deep.</p>");
    let dir = TempDir::new("max-depth");
    let out = crawl_site(&dir, &[&site.url("/"), "--max-depth", "1"]);
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    assert_eq!(
        site.page_counts(),
        [("/".to_string(), 1), ("/d1".to_string(), 1)]
            .into_iter()
            .collect()
    );
}

fn blog_shop_site() -> Site {
    let site = Site::start();
    site.page("/", &links(&["/blog/a", "/shop/b", "/about"]));
    site.page("/blog/a", &undisclosed_body(&["/blog/b"]));
    site.page("/blog/b", &undisclosed_body(&[]));
    site.page("/shop/b", &undisclosed_body(&[]));
    site.page("/about", "<p>About.</p>");
    site
}

#[test]
fn include_keeps_only_matching_urls() {
    let site = blog_shop_site();
    let dir = TempDir::new("include");
    let out = crawl_site(&dir, &[&site.url("/"), "--include", "/blog/"]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    assert_eq!(site.count("/blog/a"), 1);
    assert_eq!(site.count("/blog/b"), 1);
    assert_eq!(site.count("/shop/b"), 0);
    assert_eq!(site.count("/about"), 0);
    assert_eq!(
        out.undisclosed_pages(),
        set(&[site.url("/blog/a"), site.url("/blog/b")])
    );
}

#[test]
fn exclude_drops_matching_urls() {
    let site = blog_shop_site();
    let dir = TempDir::new("exclude");
    let out = crawl_site(&dir, &[&site.url("/"), "--exclude", "/shop/"]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    assert_eq!(site.count("/shop/b"), 0);
    for p in ["/", "/blog/a", "/blog/b", "/about"] {
        assert_eq!(site.count(p), 1, "{p}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Redirects

#[test]
fn redirect_chain_is_audited_once_under_the_final_url() {
    let site = Site::start();
    site.reply("/a", Reply::redirect(301, "/b"));
    site.reply("/b", Reply::redirect(301, &site.url("/c")));
    site.page("/c", &undisclosed_body(&["/a", "/c"]));
    let dir = TempDir::new("redirect-chain");
    let out = crawl_site(&dir, &[&site.url("/a")]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    out.assert_no_errors();
    let undisclosed = out.report.rows_where("rule", "undisclosed");
    assert_eq!(undisclosed.len(), 1, "{}", out.dump());
    assert_eq!(undisclosed[0]["page_url"], site.url("/c"));
    for p in ["/a", "/b", "/c"] {
        assert_eq!(site.count(p), 1, "{p}");
    }
    assert!(
        out.run.stderr.contains("2 redirects"),
        "summary: {}",
        out.run.stderr
    );
}

#[test]
fn redirect_loop_is_an_error_and_the_crawl_finishes() {
    let site = Site::start();
    site.page("/", &links(&["/x"]));
    site.reply("/x", Reply::redirect(302, "/y"));
    site.reply("/y", Reply::redirect(302, "/x"));
    let dir = TempDir::new("redirect-loop");
    let out = crawl_site(&dir, &[&site.url("/")]);
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    assert_eq!(out.errors.rows.len(), 1, "{}", out.dump());
    assert!(
        out.errors.rows[0]["error"].contains("loop"),
        "{}",
        out.dump()
    );
    assert_eq!((site.count("/x"), site.count("/y")), (1, 1));
    assert!(out.run.stderr.contains("1 error,"), "{}", out.run.stderr);
}

#[test]
fn redirect_loop_at_the_start_url_exits_2() {
    let site = Site::start();
    site.reply("/x", Reply::redirect(302, "/y"));
    site.reply("/y", Reply::redirect(302, "/x"));
    let dir = TempDir::new("redirect-loop-start");
    let out = crawl_site(&dir, &[&site.url("/x")]);
    assert_eq!(out.run.code, Some(2), "{}", out.dump());
    assert_eq!(out.errors.rows.len(), 1, "{}", out.dump());
    assert!(out.errors.rows[0]["error"].contains("loop"));
}

/// When both URLs of a redirect loop are linked from a page, the loop vanishes silently: each
/// redirect target was already seen, so nothing is admitted and nothing is reported.
#[test]
fn redirect_loop_between_two_linked_urls_is_reported() {
    let site = Site::start();
    site.page("/", &links(&["/x", "/y"]));
    site.reply("/x", Reply::redirect(302, "/y"));
    site.reply("/y", Reply::redirect(302, "/x"));
    let dir = TempDir::new("redirect-loop-linked");
    let out = crawl_site(&dir, &[&site.url("/"), "--concurrency", "1"]);
    assert!(
        out.errors.rows.iter().any(|r| r["error"].contains("loop")),
        "{}",
        out.dump()
    );
}

#[test]
fn long_redirect_chains_are_errors_and_ten_hops_are_fine() {
    let site = Site::start();
    site.page("/", &links(&["/r0", "/q0"]));
    for i in 0..12 {
        site.reply(
            &format!("/r{i}"),
            Reply::redirect(301, &format!("/r{}", i + 1)),
        );
    }
    site.page("/r12", &undisclosed_body(&[]));
    for i in 0..10 {
        site.reply(
            &format!("/q{i}"),
            Reply::redirect(302, &format!("/q{}", i + 1)),
        );
    }
    site.page("/q10", &undisclosed_body(&[]));
    let dir = TempDir::new("redirect-long");
    let out = crawl_site(&dir, &[&site.url("/")]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    assert_eq!(out.errors.rows.len(), 1, "{}", out.dump());
    assert!(
        out.errors.rows[0]["error"].contains("more than 10 redirects"),
        "{}",
        out.dump()
    );
    assert!(out.errors.rows[0]["url"].contains("/r"), "{}", out.dump());
    assert_eq!(site.count("/r12"), 0);
    assert_eq!(site.count("/r11"), 0);
    assert_eq!(
        out.undisclosed_pages(),
        set(&[site.url("/q10")]),
        "{}",
        out.dump()
    );
}

/// A page whose canonical URL was audited already is skipped as a duplicate, and its links are
/// dropped with it: pages reachable only through it are never crawled.
#[test]
fn pages_reachable_only_through_a_duplicate_page_are_crawled() {
    let site = Site::start();
    site.page("/", &links(&["/list?page=2"]));
    site.reply(
        "/list",
        Reply::html(format!(
            "<!doctype html><html><head><link rel=\"canonical\" href=\"{}\"></head><body>{}</body></html>",
            site.url("/"),
            links(&["/only-from-page-2"])
        )),
    );
    site.page("/only-from-page-2", &undisclosed_body(&[]));
    let dir = TempDir::new("duplicate-links");
    let out = crawl_site(&dir, &[&site.url("/")]);
    assert!(
        out.run.stderr.contains("1 duplicates by canonical URL"),
        "{}",
        out.dump()
    );
    assert_eq!(site.count("/only-from-page-2"), 1, "{}", out.dump());
    assert_eq!(
        out.undisclosed_pages(),
        set(&[site.url("/only-from-page-2")]),
        "{}",
        out.dump()
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Cloaked links

#[test]
fn cloaked_links_are_classified_by_their_location() {
    let site = Site::start();
    let target = "https://www.amazon.com/dp/B0X?tag=site-20";
    site.page(
        "/",
        "<p>Our favourite running shoe.</p>\n\
         <p><a href=\"/go/shoe\">Get the shoe</a></p>\n\
         <p><a href=\"/recommends/plain\">A plain shop</a></p>",
    );
    site.reply("/go/shoe", Reply::redirect(302, target));
    site.reply(
        "/recommends/plain",
        Reply::redirect(302, "https://www.example.org/plain-shop-page"),
    );
    let dir = TempDir::new("cloaked");
    let out = crawl_site(&dir, &[&site.url("/")]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    out.assert_no_errors();
    let undisclosed = out.report.rows_where("rule", "undisclosed");
    assert_eq!(undisclosed.len(), 1, "{}", out.dump());
    let row = undisclosed[0];
    assert_eq!(row["page_url"], site.url("/"));
    assert_eq!(row["link_url"], site.url("/go/shoe"));
    assert!(
        row["message"].contains(target),
        "message does not name the target: {}",
        row["message"]
    );
    assert!(
        out.report
            .rows
            .iter()
            .all(|r| !r["link_url"].contains("/recommends/")),
        "{}",
        out.dump()
    );
    // The cloaked links are requested once each (without following), never crawled as pages.
    let expected: BTreeMap<String, usize> = ["/", "/go/shoe", "/recommends/plain"]
        .iter()
        .map(|p| (p.to_string(), 1))
        .collect();
    assert_eq!(site.page_counts(), expected);
}

/// A plain same-site link (no cloaking prefix) that redirects to Amazon is flagged on pages
/// audited after the crawler happened to fetch it, and not on pages audited before: the same
/// link on two pages with the same (absent) disclosure gets different verdicts, depending on
/// crawl order. A resumed crawl forgets the redirect, so its report differs from an
/// uninterrupted one.
#[test]
fn redirecting_plain_links_get_the_same_verdict_on_every_page() {
    let site = Site::start();
    site.page(
        "/",
        "<p><a href=\"/deal/shoe\">Shoe deal</a></p>\n<p><a href=\"/mid\">More</a></p>",
    );
    site.page("/mid", &links(&["/later"]));
    site.page("/later", "<p><a href=\"/deal/shoe\">Shoe deal</a></p>");
    site.reply("/deal/shoe", Reply::redirect(302, AMAZON));
    let dir = TempDir::new("order-dependent");
    let out = crawl_site(&dir, &[&site.url("/"), "--concurrency", "1"]);
    let flagged: BTreeSet<String> = out
        .report
        .rows
        .iter()
        .filter(|r| r["link_url"].ends_with("/deal/shoe"))
        .map(|r| r["page_url"].clone())
        .collect();
    assert!(
        flagged.is_empty() || flagged == set(&[site.url("/"), site.url("/later")]),
        "the same link got different verdicts on different pages: flagged only on {flagged:?}\n{}",
        out.dump()
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Retries

#[test]
fn retry_after_429_and_a_500_are_retried() {
    let site = Site::start();
    site.page("/", &links(&["/busy", "/flaky"]));
    let body = page(&undisclosed_body(&[]));
    let b = body.clone();
    site.route("/busy", move |n| {
        if n == 0 {
            Reply::new(429)
                .header("Retry-After", "1")
                .header("Content-Type", "text/plain")
                .body("slow down")
        } else {
            Reply::html(b.clone())
        }
    });
    site.route("/flaky", move |n| {
        if n == 0 {
            Reply::typed("text/plain", "oops").status(500)
        } else {
            Reply::html(body.clone())
        }
    });
    let dir = TempDir::new("retries");
    let out = crawl_site(&dir, &[&site.url("/"), "--retries", "2"]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    out.assert_no_errors();
    assert_eq!(
        out.undisclosed_pages(),
        set(&[site.url("/busy"), site.url("/flaky")]),
        "{}",
        out.dump()
    );
    let busy = site.hits_to("/busy");
    assert_eq!(busy.len(), 2);
    let g = gap(busy[0].at, busy[1].at);
    assert!(
        g >= Duration::from_millis(900) && g < Duration::from_millis(2500),
        "Retry-After: 1 gave a {g:?} wait"
    );
    let flaky = site.hits_to("/flaky");
    assert_eq!(flaky.len(), 2);
    assert!(gap(flaky[0].at, flaky[1].at) >= Duration::from_millis(400));
}

#[test]
fn persistent_503_is_reported_with_its_attempts() {
    let site = Site::start();
    site.page("/", &links(&["/down"]));
    site.reply(
        "/down",
        Reply::typed("text/plain", "maintenance").status(503),
    );
    let dir = TempDir::new("503");
    let out = crawl_site(&dir, &[&site.url("/"), "--retries", "1"]);
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    assert_eq!(out.errors.rows.len(), 1, "{}", out.dump());
    let row = &out.errors.rows[0];
    assert_eq!(row["url"], site.url("/down"));
    assert_eq!(row["status"], "503");
    assert_eq!(row["attempts"], "2");
    assert_eq!(site.count("/down"), 2);
    assert!(
        out.run.stderr.contains("1 page, 1 error,"),
        "summary: {}",
        out.run.stderr
    );
}

#[test]
fn start_url_failing_with_503_exits_2() {
    let site = Site::start();
    site.reply("/", Reply::typed("text/plain", "maintenance").status(503));
    let dir = TempDir::new("503-start");
    let out = crawl_site(&dir, &[&site.url("/"), "--retries", "0"]);
    assert_eq!(out.run.code, Some(2), "{}", out.dump());
    assert_eq!(out.errors.rows.len(), 1);
    assert_eq!(out.errors.rows[0]["status"], "503");
    assert_eq!(out.errors.rows[0]["attempts"], "1");
}

// ---------------------------------------------------------------------------------------------
// 8. Time-outs

#[test]
fn slow_pages_time_out() {
    let site = Site::start();
    site.page("/", &links(&["/slow"]));
    site.reply(
        "/slow",
        Reply::html(page("<p>Finally.</p>")).delay(Duration::from_secs(3)),
    );
    let dir = TempDir::new("timeout");
    let out = crawl_site(&dir, &[&site.url("/"), "--timeout", "1", "--retries", "0"]);
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    assert_eq!(out.errors.rows.len(), 1, "{}", out.dump());
    let row = &out.errors.rows[0];
    assert_eq!(row["url"], site.url("/slow"));
    assert!(row["error"].contains("timed out"), "{}", out.dump());
    assert_eq!(row["status"], "");
    assert_eq!(row["attempts"], "1");
    assert!(
        out.run.elapsed < Duration::from_millis(2900),
        "took {:?}",
        out.run.elapsed
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Body size caps

#[test]
fn oversized_bodies_are_refused_after_decompression() {
    let site = Site::start();
    site.page("/", &links(&["/big", "/bomb", "/small-gz"]));
    site.page("/big", &format!("<p>{}</p>", "x".repeat(5000)));
    let big = page(&format!("<p>{}</p>", "y".repeat(50_000)));
    let compressed = gzip(big.as_bytes());
    assert!(
        compressed.len() < 1000,
        "bomb is {} bytes",
        compressed.len()
    );
    site.reply(
        "/bomb",
        Reply::html(compressed).header("Content-Encoding", "gzip"),
    );
    let small = page(&undisclosed_body(&[]));
    assert!(small.len() < 1000);
    site.reply(
        "/small-gz",
        Reply::html(gzip(small.as_bytes())).header("Content-Encoding", "gzip"),
    );
    let dir = TempDir::new("size");
    let out = crawl_site(&dir, &[&site.url("/"), "--max-page-bytes", "1000"]);
    assert_eq!(out.run.code, Some(1), "{}", out.dump());
    let failed: BTreeSet<String> = out
        .errors
        .column("url")
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(
        failed,
        set(&[site.url("/big"), site.url("/bomb")]),
        "{}",
        out.dump()
    );
    for row in &out.errors.rows {
        assert!(
            row["error"].contains("larger than 1000 bytes"),
            "{}",
            out.dump()
        );
    }
    assert_eq!(
        out.undisclosed_pages(),
        set(&[site.url("/small-gz")]),
        "{}",
        out.dump()
    );
}

// ---------------------------------------------------------------------------------------------
// 10. Content types and encodings

/// Latin-1 bytes of `text`.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("latin-1 character"))
        .collect()
}

#[test]
fn non_html_is_skipped_and_latin1_pages_are_decoded() {
    let site = Site::start();
    site.page("/", &links(&["/file", "/latin", "/latin-meta"]));
    site.reply(
        "/file",
        Reply::typed(
            "application/pdf",
            b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec(),
        ),
    );
    site.reply(
        "/latin",
        Reply::typed(
            "text/html; charset=iso-8859-1",
            latin1(
                "<!doctype html><html><head><title>Schuhe</title></head><body>\n\
                 <p>Werbung: Wir erhalten eine Provision, wenn Sie über diese Links kaufen. \
                 Als Amazon-Partner verdienen wir an qualifizierten Verkäufen.</p>\n\
                 <p><a href=\"https://www.amazon.de/dp/B0X?tag=x-21\">Schuhe kaufen</a></p>\n\
                 </body></html>\n",
            ),
        ),
    );
    // The HTTP charset wins over a wrong <meta charset>; only correctly decoded text ("Vergütung")
    // makes the disclosure count.
    site.reply(
        "/latin-meta",
        Reply::typed(
            "text/html; charset=iso-8859-1",
            latin1(
                "<!doctype html><html><head><meta charset=\"utf-8\"><title>Zelt</title></head><body>\n\
                 <p>Wenn Sie über diese Links bestellen, erhalten wir eine Vergütung.</p>\n\
                 <p><a rel=\"sponsored\" href=\"https://shop.example/zelt\">Zelt</a></p>\n\
                 </body></html>\n",
            ),
        ),
    );
    let dir = TempDir::new("content");
    let out = crawl_site(&dir, &[&site.url("/")]);
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    assert!(out.report.rows.is_empty(), "{}", out.dump());
    out.assert_no_errors();
    assert_eq!(site.count("/file"), 1);
    assert!(
        out.run
            .stderr
            .contains("3 pages, 0 errors, 2 affiliate links")
            && out.run.stderr.contains("1 not HTML"),
        "summary: {}",
        out.run.stderr
    );
    // The page that was not audited is named, with why.
    let file = site.url("/file");
    assert!(
        out.run
            .stderr
            .lines()
            .any(|l| l.contains(&file) && l.contains("skipped: not HTML")),
        "{}",
        out.run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 11. Extra headers

#[test]
fn extra_headers_go_to_the_start_host_only() {
    let site = Site::start();
    site.page("/", &links(&["/a"]));
    site.page("/a", "<p>A.</p>");
    site.reply(
        "/sitemap.xml",
        Reply::typed(
            "application/xml",
            urlset(&[site.localhost_url("/from-sitemap")]),
        ),
    );
    site.page("/from-sitemap", "<p>Listed.</p>");
    let dir = TempDir::new("headers");
    let out = crawl_site(
        &dir,
        &[
            &site.url("/"),
            "--header",
            "X-Token: abc",
            "--sitemap",
            &site.localhost_url("/sitemap.xml"),
        ],
    );
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    out.assert_no_errors();
    let start_host = format!("127.0.0.1:{}", site.port());
    let other_host = format!("localhost:{}", site.port());
    let hits = site.hits();
    let start_paths: BTreeSet<&str> = hits
        .iter()
        .filter(|h| h.host == start_host)
        .map(|h| h.path.as_str())
        .collect();
    let other_paths: BTreeSet<&str> = hits
        .iter()
        .filter(|h| h.host == other_host)
        .map(|h| h.path.as_str())
        .collect();
    assert_eq!(
        start_paths,
        ["/", "/a", "/robots.txt"].into_iter().collect(),
        "{hits:#?}"
    );
    assert_eq!(
        other_paths,
        ["/from-sitemap", "/robots.txt", "/sitemap.xml"]
            .into_iter()
            .collect(),
        "{hits:#?}"
    );
    for h in &hits {
        let token = h.headers.get("x-token").map(|v| v.to_str().unwrap_or("?"));
        if h.host == start_host {
            assert_eq!(token, Some("abc"), "{} {} lacks X-Token", h.host, h.path);
        } else {
            assert_eq!(token, None, "X-Token leaked to {} {}", h.host, h.path);
        }
        let agent = h
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(agent.starts_with("affcheck/"), "User-Agent {agent:?}");
    }
}

/// Headers are scoped to the exact origin of the start URL: another port on the same host is in
/// the crawl's scope (it is the same host) but is another origin, and never gets the secret.
#[test]
fn extra_headers_do_not_reach_another_port_of_the_start_host() {
    let site = Site::start();
    let other = Site::start();
    let elsewhere = other.url("/elsewhere");
    site.page("/", &links(&[elsewhere.as_str()]));
    other.page("/elsewhere", "<p>Same host, other port.</p>");
    let dir = TempDir::new("headers-port");
    let out = crawl_site(
        &dir,
        &[&site.url("/"), "--header", "Authorization: Bearer s3cret"],
    );
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    assert_eq!(other.count("/elsewhere"), 1, "{:#?}", other.hits());
    for h in other.hits() {
        assert!(
            h.headers.get("authorization").is_none(),
            "the secret leaked to port {}: {} {}",
            other.port(),
            h.host,
            h.path
        );
    }
    assert!(
        site.hits()
            .iter()
            .all(|h| h.headers.get("authorization").is_some()),
        "{:#?}",
        site.hits()
    );
}

/// A redirect does not carry the secret to another origin: the start URL and a page link both
/// redirect to another port of the start host, which is in the crawl's scope but never gets the
/// header.
#[test]
fn extra_headers_do_not_follow_a_redirect_to_another_origin() {
    let site = Site::start();
    let other = Site::start();
    site.reply("/", Reply::redirect(302, &other.url("/home")));
    other.page("/home", &links(&[site.url("/go").as_str()]));
    site.reply("/go", Reply::redirect(301, &other.url("/landing")));
    other.page("/landing", "<p>Landed.</p>");
    let dir = TempDir::new("headers-redirect");
    let out = crawl_site(
        &dir,
        &[&site.url("/"), "--header", "Authorization: Bearer s3cret"],
    );
    assert_eq!(out.run.code, Some(0), "{}", out.dump());
    out.assert_no_errors();
    assert_eq!(other.count("/home"), 1, "{:#?}", other.hits());
    assert_eq!(other.count("/landing"), 1, "{:#?}", other.hits());
    for h in other.hits() {
        assert!(
            h.headers.get("authorization").is_none(),
            "the secret followed a redirect to port {}: {}",
            other.port(),
            h.path
        );
    }
    assert!(site.count("/go") >= 1, "{:#?}", site.hits());
    assert!(
        site.hits()
            .iter()
            .all(|h| h.headers.get("authorization").is_some()),
        "{:#?}",
        site.hits()
    );
}

// ---------------------------------------------------------------------------------------------
// 12. Resume

const RESUME_PAGES: usize = 60;

/// A 60-page binary tree of slow pages, each with an undisclosed Amazon link.
fn resume_site() -> Site {
    let site = Site::start();
    for i in 0..RESUME_PAGES {
        let mut hrefs: Vec<String> = [2 * i + 1, 2 * i + 2]
            .into_iter()
            .filter(|c| *c < RESUME_PAGES)
            .map(|c| format!("/p/{c}"))
            .collect();
        hrefs.push("/p/0".into());
        let hrefs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
        let body = format!(
            "<p>Page {i}.</p>\n<p><a href=\"https://www.amazon.com/dp/B{i:04}?tag=x-20\">Item {i}</a></p>\n{}",
            links(&hrefs)
        );
        site.reply(
            &format!("/p/{i}"),
            Reply::html(page(&body)).delay(Duration::from_millis(20)),
        );
    }
    site
}

/// Report rows as sorted (page_url, rule, link_url) keys.
fn row_keys(report: &Csv) -> Vec<(String, String, String)> {
    let mut keys: Vec<_> = report
        .rows
        .iter()
        .map(|r| {
            (
                r["page_url"].clone(),
                r["rule"].clone(),
                r["link_url"].clone(),
            )
        })
        .collect();
    keys.sort();
    keys
}

/// Data lines written to `path` so far (a torn last line counts).
fn lines_written(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|c| **c == b'\n').count().saturating_sub(1))
        .unwrap_or(0)
}

/// Waits until `report` holds at least `rows` rows, lets the crawl run `extra` longer, then
/// kills it with SIGKILL. Returns the rows present at the kill.
fn kill_after_rows(mut child: Child, report: &Path, rows: usize, extra: Duration) -> usize {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("the crawl ended ({status}) before it could be interrupted at {rows} rows");
        }
        if lines_written(report) >= rows {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no progress");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(extra);
    child.kill().expect("kill");
    child.wait().expect("reap");
    lines_written(report)
}

struct ResumeFiles {
    report: PathBuf,
    state: PathBuf,
    args: Vec<String>,
}

fn resume_files(site: &Site, dir: &TempDir, name: &str) -> ResumeFiles {
    let report = dir.path(&format!("{name}-report.csv"));
    let state = dir.path(&format!("{name}.state"));
    let args = args(&[
        &site.url("/p/0"),
        "--state",
        &state.display().to_string(),
        "--output",
        &report.display().to_string(),
        "--concurrency",
        "2",
    ]);
    ResumeFiles {
        report,
        state,
        args,
    }
}

/// The rows of an uninterrupted crawl.
fn baseline(site: &Site, dir: &TempDir) -> Vec<(String, String, String)> {
    let report = dir.path("baseline.csv");
    let run = crawl(
        dir,
        &args(&[
            &site.url("/p/0"),
            "--output",
            &report.display().to_string(),
            "--concurrency",
            "2",
        ]),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let keys = row_keys(&Csv::read(&report));
    let pages: BTreeSet<&String> = keys.iter().map(|k| &k.0).collect();
    assert_eq!(pages.len(), RESUME_PAGES);
    keys
}

fn assert_same_rows(report: &Path, expected: &[(String, String, String)], what: &str) {
    let text = std::fs::read_to_string(report).expect("report");
    assert_eq!(
        text.matches("page_url,rule,").count(),
        1,
        "{what}: header written more than once"
    );
    let got = row_keys(&Csv::parse(&text));
    let unique: BTreeSet<_> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "{what}: duplicated rows");
    let missing: Vec<_> = expected.iter().filter(|k| !got.contains(k)).collect();
    let extra: Vec<_> = got.iter().filter(|k| !expected.contains(k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing {missing:#?}\nextra {extra:#?}"
    );
}

#[test]
fn resume_after_kill_writes_every_row_exactly_once() {
    let site = resume_site();
    let dir = TempDir::new("resume-once");
    let expected = baseline(&site, &dir);
    let total = expected.len();

    let files = resume_files(&site, &dir, "a");
    let (child, _, _) = spawn(&dir, &files.args);
    let at_kill = kill_after_rows(child, &files.report, 6, Duration::from_millis(3));
    assert!(at_kill < total, "the crawl was not interrupted");
    let run = crawl(&dir, &files.args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{RESUME_PAGES} pages")),
        "summary: {}",
        run.stderr
    );
    assert_same_rows(&files.report, &expected, "resumed crawl");

    // Running the finished crawl again fetches no page and leaves the report as it is.
    let before = std::fs::read(&files.report).unwrap();
    let pages_before: usize = site.page_counts().values().sum();
    let run = crawl(&dir, &files.args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(std::fs::read(&files.report).unwrap(), before);
    assert_eq!(site.page_counts().values().sum::<usize>(), pages_before);
    assert!(files.state.is_file());
}

#[test]
fn resume_after_two_kills_at_different_moments() {
    let site = resume_site();
    let dir = TempDir::new("resume-twice");
    let expected = baseline(&site, &dir);
    let total = expected.len();

    let files = resume_files(&site, &dir, "b");
    let (child, _, _) = spawn(&dir, &files.args);
    let first = kill_after_rows(child, &files.report, 20, Duration::from_millis(11));
    assert!(first < total, "the crawl was not interrupted");
    let (child, _, _) = spawn(&dir, &files.args);
    let second = kill_after_rows(child, &files.report, 70, Duration::from_millis(7));
    assert!(second < total, "the resumed crawl was not interrupted");
    let run = crawl(&dir, &files.args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_same_rows(&files.report, &expected, "twice resumed crawl");
}

/// A sitemap that fails is journalled as not read, but its row in the errors file is kept by the
/// next page's offsets: on resume the sitemap is tried again and its error written a second time.
#[test]
fn resume_does_not_repeat_error_rows() {
    let site = resume_site();
    let dir = TempDir::new("resume-errors");
    let mut files = resume_files(&site, &dir, "c");
    let errors = dir.path("c-errors.csv");
    files.args.extend(args(&[
        "--errors",
        &errors.display().to_string(),
        "--sitemap",
        &site.url("/missing-sitemap.xml"),
    ]));
    let (child, _, _) = spawn(&dir, &files.args);
    kill_after_rows(child, &files.report, 10, Duration::ZERO);
    let run = crawl(&dir, &files.args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let errs = Csv::read(&errors);
    assert_eq!(
        errs.column("url"),
        vec![site.url("/missing-sitemap.xml").as_str()],
        "{:#?}",
        errs.rows
    );
}

/// Hubs of the kill-loop site.
const KILL_HUBS: usize = 30;

/// What a site serves, as a crawler starting at its home page finds it.
struct Served {
    /// Audited pages, each with the one affiliate link it carries.
    audited: BTreeMap<String, String>,
    /// Pages that answer an error status.
    failing: BTreeSet<String>,
}

/// The kill-loop site: its home page links to `KILL_HUBS` hubs, each hub to a leaf of its own
/// and back home, every page answers after 20 ms with an affiliate link of its own, except every
/// third leaf (2, 5, 8 …), which answers 404. While the crawl is in the hubs, the frontier holds every hub not
/// yet crawled ahead of each newly found leaf. Paths put in the returned set answer slowly from
/// then on. Also returns what the site serves, found by following its links from home.
fn kill_loop_site() -> (Site, Served, Arc<Mutex<BTreeSet<String>>>) {
    let site = Site::start();
    let slow: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let hub = |h: usize| format!("/hub/{h}");
    let leaf = |h: usize| format!("/leaf/{h}");
    let failing: BTreeSet<String> = (0..KILL_HUBS).filter(|h| h % 3 == 2).map(leaf).collect();
    let fails = |path: &str| failing.contains(path);
    let mut links_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    links_of.insert("/".into(), (0..KILL_HUBS).map(hub).collect());
    for h in 0..KILL_HUBS {
        links_of.insert(hub(h), vec![leaf(h), "/".into()]);
        links_of.insert(leaf(h), vec!["/".into()]);
    }
    let link = |path: &str| {
        format!(
            "https://www.amazon.com/dp/B{}?tag=x-20",
            path.replace('/', "-")
        )
    };
    for (path, hrefs) in &links_of {
        let reply = if fails(path) {
            Reply::typed("text/plain", "gone").status(404)
        } else {
            let hrefs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
            Reply::html(page(&format!(
                "<p>{path}</p>\n<p><a href=\"{}\">Item</a></p>\n{}",
                link(path),
                links(&hrefs)
            )))
        };
        let (slow, path_owned) = (Arc::clone(&slow), path.clone());
        site.route(path, move |_| {
            let pause = if slow.lock().unwrap().contains(&path_owned) {
                400
            } else {
                20
            };
            reply.clone().delay(Duration::from_millis(pause))
        });
    }
    let mut served = Served {
        audited: BTreeMap::new(),
        failing: BTreeSet::new(),
    };
    let mut seen = BTreeSet::from(["/".to_string()]);
    let mut queue = std::collections::VecDeque::from(["/".to_string()]);
    while let Some(path) = queue.pop_front() {
        if fails(&path) {
            served.failing.insert(site.url(&path));
            continue;
        }
        served.audited.insert(site.url(&path), link(&path));
        for next in &links_of[&path] {
            if seen.insert(next.clone()) {
                queue.push_back(next.clone());
            }
        }
    }
    (site, served, slow)
}

/// A fixed-seed xorshift generator: the kill moments differ from one another but not from run to
/// run, so a failure can be replayed.
struct Moments(u64);

impl Moments {
    /// The next number below `n`.
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// URLs the journal at `path` records as finished (its `D` lines).
fn journalled_done(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| {
            b.split(|c| *c == b'\n')
                .filter(|l| l.starts_with(b"D "))
                .count()
        })
        .unwrap_or(0)
}

/// Waits until the journal at `state` records `done` finished URLs, lets the crawl run `extra`
/// longer, then kills it with SIGKILL and checks that the kill, not the end of the crawl, stopped
/// it.
fn kill_after_done(mut child: Child, state: &Path, done: usize, extra: Duration) {
    use std::os::unix::process::ExitStatusExt;
    let started = Instant::now();
    while journalled_done(state) < done {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("the crawl ended ({status}) before {done} URLs were done");
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no progress");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(extra);
    child.kill().expect("kill");
    let status = child.wait().expect("reap");
    assert_eq!(
        status.signal(),
        Some(9),
        "the crawl ended ({status}) before the kill at {done} URLs + {extra:?}"
    );
}

/// Cuts the last line of the file at `path` in the middle, as a crash mid-write would. Returns
/// the line as it was.
fn tear_last_line(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read the journal");
    let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let start = body.iter().rposition(|c| *c == b'\n').map_or(0, |i| i + 1);
    let cut = start + (body.len() - start) / 2;
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(cut as u64))
        .expect("tear the journal");
    String::from_utf8_lossy(&body[start..]).into_owned()
}

/// Five SIGKILLs at seeded moments spread over the crawl, the first followed by a journal torn by
/// hand in its last line, each followed by a resume: the report, the inventory and the errors
/// file end up with every page the site serves, once.
#[test]
fn five_kills_and_a_torn_journal_lose_no_row_and_repeat_none() {
    let (site, served, slow) = kill_loop_site();
    let dir = TempDir::new("kill-loop");
    let report = dir.path("report.csv");
    let inventory = dir.path("inventory.csv");
    let errors = dir.path("errors.csv");
    let state = dir.path("crawl.state");
    let crawl_args = args(&[
        &site.url("/"),
        "--state",
        &state.display().to_string(),
        "--output",
        &report.display().to_string(),
        "--inventory",
        &inventory.display().to_string(),
        "--errors",
        &errors.display().to_string(),
        "--concurrency",
        "2",
        "--retries",
        "0",
    ]);
    let finished = served.audited.len() + served.failing.len();
    let kills = 5;
    let band = (finished - 2) / kills;
    let mut moments = Moments(0x5eed_affc_0c4e_c0de);
    for k in 0..kills {
        let done = 1 + k * band + moments.below(band as u64) as usize;
        let extra = Duration::from_millis(moments.below(8));
        let (child, _, _) = spawn(&dir, &crawl_args);
        kill_after_done(child, &state, done, extra);
        // Torn early, with kills to come: the record the next run appends after the fragment
        // must survive them. The torn record's page answers slowly from now on, so that record
        // is another page's, one that finds a new page.
        if k == 0 {
            let torn = tear_last_line(&state);
            let url = torn.split(' ').nth(1).expect("a record names its URL");
            let path = url.strip_prefix(&site.url("")).expect("a page of the site");
            slow.lock().unwrap().insert(path.to_string());
        }
    }
    let run = crawl(&dir, &crawl_args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);

    let rows = Csv::read(&report);
    assert_eq!(rows.header_line(), REPORT_HEADER);
    // (page, affiliate link) of each row.
    let pairs = |rows: &[&BTreeMap<String, String>]| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| (r["page_url"].clone(), r["link_url"].clone()))
            .collect()
    };
    let served_links: BTreeSet<(String, String)> = served.audited.clone().into_iter().collect();
    assert_each_once(
        pairs(&rows.rows_where("rule", "undisclosed")),
        &served_links,
        "undisclosed rows",
    );
    let pages: BTreeSet<&str> = rows.column("page_url").into_iter().collect();
    let served_pages: BTreeSet<&str> = served.audited.keys().map(String::as_str).collect();
    assert_eq!(pages, served_pages, "pages in the report");
    let all_rows: BTreeSet<_> = rows.rows.iter().cloned().collect();
    assert_each_once(rows.rows.clone(), &all_rows, "report rows");

    let links = Csv::read(&inventory);
    let listed: Vec<&BTreeMap<String, String>> = links.rows.iter().collect();
    assert_each_once(pairs(&listed), &served_links, "inventory rows");

    let errs = Csv::read(&errors);
    let failed: Vec<String> = errs.column("url").into_iter().map(String::from).collect();
    assert_each_once(failed, &served.failing, "errors rows");

    // A resume fetches again only what was unfinished at the kill: the pages in flight (at most
    // twice --concurrency, counting those fetched and being audited), and the torn record's.
    let fetched: usize = site.page_counts().values().sum();
    let again = fetched - finished;
    assert!(
        again <= kills * 2 * 2 + 1,
        "{again} pages fetched again: {:?}",
        site.page_counts()
    );
}

/// Asserts that `got` holds every item of `expected` exactly once and nothing else, naming what
/// is missing, repeated or unexpected.
fn assert_each_once<T: Ord + Clone + std::fmt::Debug>(
    got: Vec<T>,
    expected: &BTreeSet<T>,
    what: &str,
) {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for item in got {
        *counts.entry(item).or_default() += 1;
    }
    let missing: Vec<&T> = expected
        .iter()
        .filter(|e| !counts.contains_key(e))
        .collect();
    let repeated: Vec<(&T, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    let unexpected: Vec<&T> = counts.keys().filter(|k| !expected.contains(k)).collect();
    assert!(
        missing.is_empty() && repeated.is_empty() && unexpected.is_empty(),
        "{what}: missing {missing:#?}\nrepeated {repeated:#?}\nunexpected {unexpected:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 13. Usage errors

fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/")
}

#[test]
fn unreachable_start_url_exits_2_naming_it() {
    let url = closed_port_url();
    let dir = TempDir::new("unreachable");
    let out = crawl_site(
        &dir,
        &[&url, "--retries", "0", "--timeout", "2", "--ignore-robots"],
    );
    assert_eq!(out.run.code, Some(2), "{}", out.dump());
    assert_eq!(
        out.errors.column("url"),
        vec![url.as_str()],
        "{}",
        out.dump()
    );
    assert!(out.errors.rows[0]["error"].contains("cannot connect"));
}

/// Without `--ignore-robots`, the unreachable robots.txt makes the start page "blocked": the
/// crawl audits nothing, records no error and exits 0, although `--help` promises 2 when "not a
/// single page could be audited".
#[test]
fn unreachable_start_url_exits_2_even_when_robots_txt_is_read() {
    let url = closed_port_url();
    let dir = TempDir::new("unreachable-robots");
    let out = crawl_site(&dir, &[&url, "--retries", "0", "--timeout", "2"]);
    assert!(out.run.stderr.contains(&url), "{}", out.dump());
    assert_eq!(out.run.code, Some(2), "{}", out.dump());
}

#[test]
fn state_without_output_is_refused() {
    let dir = TempDir::new("state-no-output");
    let state = dir.path("s.state");
    let run = crawl(
        &dir,
        &args(&[
            "http://127.0.0.1:9/",
            "--state",
            &state.display().to_string(),
        ]),
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("--state") && run.stderr.contains("--output"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(!state.exists());
}

#[test]
fn invalid_include_regex_is_refused_naming_the_pattern() {
    let dir = TempDir::new("bad-regex");
    let run = crawl(
        &dir,
        &args(&["http://127.0.0.1:9/", "--include", "blog/(unclosed"]),
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("--include") && run.stderr.contains("\"blog/(unclosed\""),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 14. One verdict, whatever the input

/// `check URL` and `crawl` audit a page the same way: a same-site `/go/` link is requested
/// without following it and classified by where it leads (here Amazon, so the Amazon statement
/// is required), and a `/go/` link that stays on plain shop pages is not an affiliate link.
#[test]
fn check_url_and_crawl_give_one_page_the_same_rows() {
    let site = Site::start();
    site.page(
        "/",
        "<p>Our pick: <a href=\"/go/tent\">the tent</a>.</p>\n\
         <p>Also <a href=\"/go/shop\">the maker's own shop</a>.</p>",
    );
    site.reply("/go/tent", Reply::redirect(302, AMAZON));
    site.reply(
        "/go/shop",
        Reply::redirect(301, "https://maker.example/tents/"),
    );
    let dir = TempDir::new("one-verdict");
    let crawled = crawl_site(&dir, &[&site.url("/"), "--max-depth", "0"]);
    let report = dir.path("check.csv");
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .args(["check", &site.url("/"), "--output"])
        .arg(&report)
        .output()
        .expect("run affcheck check");
    let checked = Csv::read(&report);
    assert_eq!(check.status.code(), Some(1), "{check:?}");
    assert_eq!(checked.rows, crawled.report.rows, "{}", crawled.dump());
    let rules: BTreeSet<&str> = checked.rows.iter().map(|r| r["rule"].as_str()).collect();
    assert_eq!(
        rules,
        BTreeSet::from(["undisclosed", "amazon-statement-missing"]),
        "{:#?}",
        checked.rows
    );
    assert!(
        checked
            .rows
            .iter()
            .all(|r| !r["link_url"].ends_with("/go/shop")),
        "a /go/ link to a plain shop is not an affiliate link: {:#?}",
        checked.rows
    );
    assert!(
        checked
            .rows
            .iter()
            .any(|r| r["network"] == "Amazon Associates"),
        "{:#?}",
        checked.rows
    );
}

/// Every report format, and the inventory, come out of an interrupted and resumed crawl as out of
/// an uninterrupted one: the journal replays results into the same sink chain.
#[test]
fn every_format_survives_kill_and_resume() {
    let site = resume_site();
    let dir = TempDir::new("resume-formats");
    let formats = ["csv", "json", "sarif", "junit", "markdown"];
    let run_args = |name: &str, state: bool| -> (PathBuf, Vec<String>) {
        let out = dir.path(name);
        let mut a = args(&[
            &site.url("/p/0"),
            "--output-dir",
            &out.display().to_string(),
            "--inventory",
            &dir.path(&format!("{name}-inventory.csv"))
                .display()
                .to_string(),
            "--concurrency",
            "2",
        ]);
        for f in formats {
            a.extend(args(&["--format", f]));
        }
        if state {
            a.extend(args(&[
                "--state",
                &dir.path(&format!("{name}.state")).display().to_string(),
            ]));
        }
        (out, a)
    };
    let (full, full_args) = run_args("full", false);
    let run = crawl(&dir, &full_args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);

    let (resumed, resumed_args) = run_args("resumed", true);
    let (child, _, _) = spawn(&dir, &resumed_args);
    let at_kill = kill_after_rows(
        child,
        &resumed.join("report.csv"),
        12,
        Duration::from_millis(5),
    );
    assert!(at_kill < RESUME_PAGES, "the crawl was not interrupted");
    let run = crawl(&dir, &resumed_args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);

    let expected = row_keys(&Csv::read(&full.join("report.csv")));
    assert_same_rows(&resumed.join("report.csv"), &expected, "resumed CSV");
    let sorted_rows = |p: &Path| {
        let mut rows = Csv::read(p).rows;
        rows.sort();
        rows
    };
    assert_eq!(
        sorted_rows(&dir.path("resumed-inventory.csv")),
        sorted_rows(&dir.path("full-inventory.csv")),
        "inventory"
    );
    // Formats whose order or timing may differ between runs are compared on what they say.
    let sarif_results = |dir: &Path| {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("report.sarif")).unwrap())
                .expect("SARIF is JSON");
        let mut results: Vec<String> = doc["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| format!("{} {}", r["ruleId"], r["message"]["text"]))
            .collect();
        results.sort();
        results
    };
    let sarif = sarif_results(&resumed);
    assert_eq!(sarif.len(), expected.len(), "one SARIF result per row");
    assert_eq!(sarif, sarif_results(&full), "SARIF");
    let json_findings = |dir: &Path| {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap())
                .expect("JSON");
        (
            doc["findings"].as_array().map(Vec::len),
            doc["summary"]["pages"].clone(),
        )
    };
    assert_eq!(json_findings(&resumed), json_findings(&full), "JSON");
    let junit = |dir: &Path| {
        let text = std::fs::read_to_string(dir.join("report.junit.xml")).unwrap();
        let head = text
            .lines()
            .nth(1)
            .unwrap_or("")
            .split(" time=")
            .next()
            .unwrap()
            .to_string();
        let mut names: Vec<String> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("<testcase ").map(str::to_string))
            .collect();
        names.sort();
        (head, names)
    };
    assert_eq!(junit(&resumed), junit(&full), "JUnit");
    assert!(
        junit(&full)
            .0
            .contains(&format!("tests=\"{RESUME_PAGES}\""))
    );
    let markdown = |dir: &Path| {
        let text = std::fs::read_to_string(dir.join("report.md")).unwrap();
        // The top-ten table breaks ties in arrival order, which differs between crawls.
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with("| `http"))
            .map(|l| l.split(" in ").next().unwrap().to_string())
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(markdown(&resumed), markdown(&full), "Markdown");
}
