//! The hostile-site suite: `affcheck` against servers and pages built to hurt a crawler, all on
//! 127.0.0.1 and started by the tests. Every case asserts that the run ends within the watchdog of
//! `crawl_support`, that the bad URL gets a clear error row (or a correct audit) and that every
//! good page is still audited.

mod common;
mod crawl_support;

use std::collections::BTreeSet;

use std::process::Command;

use crawl_support::{
    DISCLOSURE, Reply, Site, TempDir, crawl_site, links, page, sitemap_index, undisclosed_body,
    urlset,
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
