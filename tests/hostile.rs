//! The hostile-site suite: `affcheck` against servers and pages built to hurt a crawler, all on
//! 127.0.0.1 and started by the tests. Every case asserts that the run ends within the watchdog of
//! `crawl_support`, that the bad URL gets a clear error row (or a correct audit) and that every
//! good page is still audited.

mod common;
mod crawl_support;

use std::collections::BTreeSet;

use crawl_support::{Reply, Site, TempDir, crawl_site, links, page, undisclosed_body};

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
