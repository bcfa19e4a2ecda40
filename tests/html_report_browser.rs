//! The HTML report in a real browser: headless Chromium opens the report of the bundled example
//! site from a `file://` URL, runs its script, and the DOM it leaves has the figures, the table
//! rows, the chart bars and the page list; a filtered and sorted view (from the address's
//! fragment) shows the right rows in the right order; hostile page text stays text; and a
//! screenshot is saved for a person to look at.
//!
//! Without Chromium (`chromium` or `chromium-browser` on PATH, or `AFFCHECK_CHROMIUM`), the tests
//! print "skipped: chromium not installed" and pass, unless `AFFCHECK_REQUIRE_CHROMIUM=1` (as in
//! CI), which makes them fail.

mod common;
mod html_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BASE, Csv, check, run, site_dir};
use html_support::{figure, json_element, thousands};

/// Longest one Chromium run may take.
const BROWSER_WATCHDOG: Duration = Duration::from_secs(120);

/// The Chromium binary, or `None` (after saying so) when it is absent and not required.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("AFFCHECK_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
                .find(|p| p.is_file())
        });
    if found.is_none() {
        assert!(
            std::env::var("AFFCHECK_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "chromium not installed, and AFFCHECK_REQUIRE_CHROMIUM=1 asks for the browser tests: \
             apt-get install -y chromium"
        );
        say("skipped: chromium not installed (set AFFCHECK_REQUIRE_CHROMIUM=1 to fail instead)");
    }
    found
}

/// A line on standard error that the test harness does not capture (it captures `eprintln!`).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "tests/html_report_browser.rs: {line}");
}

/// Where the browser tests keep their reports and screenshots: below the target folder.
fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("html-report-browser")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium with `args` then `url`, with its own profile in `dir`; returns its
/// standard output.
fn browse(chrome: &Path, dir: &Path, args: &[&str], url: &str) -> String {
    let profile = dir.join(format!(
        "profile-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let stdout = dir.join("chromium.stdout");
    let stderr = dir.join("chromium.stderr");
    let mut child = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", chrome.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium still running after {BROWSER_WATCHDOG:?}: {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        status.success(),
        "chromium failed ({status}): {}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    std::fs::read_to_string(&stdout).unwrap()
}

fn file_url(path: &Path) -> String {
    url::Url::from_file_path(path).unwrap().to_string()
}

/// The `<tr>` elements of the findings table body in a dumped DOM, as the texts of their cells.
fn table_rows(dom: &str) -> Vec<Vec<String>> {
    let body = dom
        .split("<tbody id=\"findings-body\">")
        .nth(1)
        .expect("the findings table body")
        .split("</tbody>")
        .next()
        .unwrap();
    let tag = regex::Regex::new(r"<[^>]*>").unwrap();
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("</td>")
                .filter(|c| c.contains("<td"))
                .map(|c| tag.replace_all(c, "").into_owned())
                .collect()
        })
        .collect()
}

/// Checks the bundled example site into `dir` as CSV and HTML; returns the CSV.
fn example_report(dir: &Path) -> Csv {
    let out = run(check([site_dir()])
        .args(["--base-url", BASE, "--output-dir"])
        .arg(dir)
        .args(["--format", "csv", "--format", "html"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    Csv::read(&dir.join("report.csv"))
}

#[test]
fn the_example_site_report_renders_in_chromium() {
    let Some(chrome) = chromium() else { return };
    let dir = out_dir("example-site");
    let csv = example_report(&dir);
    let report = dir.join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    let dom = browse(&chrome, &dir, &["--dump-dom"], &file_url(&report));

    // The script ran: it retitled the page and drew the table and the page list.
    let n = csv.rows.len();
    assert!(
        dom.contains(&format!(
            "<title>Affiliate disclosure audit: {} violations on",
            thousands(n)
        )),
        "the script did not run: {}",
        &dom[..dom.len().min(2000)]
    );
    assert_eq!(figure(&dom, "violations"), thousands(n));
    let rows = table_rows(&dom);
    assert_eq!(rows.len(), n.min(200), "table rows");
    assert!(rows.iter().all(|r| r.len() == 9), "nine cells a row");
    assert!(
        dom.contains(&format!(
            "Showing {} of {} findings.",
            n.min(200),
            thousands(n)
        )),
        "status line"
    );
    // The rows are the CSV's, in its order.
    for (row, csv_row) in rows.iter().zip(&csv.rows) {
        assert_eq!(row[0], csv_row["page_url"]);
        assert_eq!(row[1], csv_row["line"]);
        assert_eq!(row[2], csv_row["rule"]);
        assert_eq!(row[3], csv_row["severity"]);
    }
    // Charts have bars; the page list has a closed <details> per page with links or violations.
    let by_rule = dom
        .split("id=\"by-rule\"")
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    assert!(
        by_rule.matches("<rect class=\"sev-").count() >= 3,
        "{by_rule}"
    );
    for chart in ["by-network", "by-section"] {
        let svg = dom.split(&format!("id=\"{chart}\"")).nth(1).unwrap();
        assert!(
            svg.split("</svg>").next().unwrap().contains("<rect"),
            "{chart} has bars"
        );
    }
    let pages = json_element(&html, "affcheck-pages")
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        dom.matches("<details class=\"page\"").count(),
        pages.min(100)
    );

    let png = dir.join("report.png");
    browse(
        &chrome,
        &dir,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,2000",
        ],
        &file_url(&report),
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
    say(&format!("screenshot: {}", png.display()));
}

/// A view named in the address's fragment: the rule filter and a descending sort by line.
#[test]
fn a_filtered_and_sorted_view_from_the_address() {
    let Some(chrome) = chromium() else { return };
    let dir = out_dir("filtered");
    let csv = example_report(&dir);
    let report = dir.join("report.html");
    let url = format!("{}#rule=hidden-disclosure&sort=-line", file_url(&report));
    let dom = browse(&chrome, &dir, &["--dump-dom"], &url);
    let rows = table_rows(&dom);
    let expected = csv.rows_where("rule", "hidden-disclosure");
    assert!(!expected.is_empty());
    assert_eq!(rows.len(), expected.len());
    assert!(rows.iter().all(|r| r[2] == "hidden-disclosure"));
    let lines: Vec<u32> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(
        lines.windows(2).all(|w| w[0] >= w[1]),
        "descending: {lines:?}"
    );
    assert!(
        dom.contains("aria-sort=\"descending\""),
        "the header says so"
    );
    assert!(
        dom.contains(&format!(
            "Showing {n} of {n} matching findings ({} in all).",
            csv.rows.len(),
            n = expected.len()
        )),
        "status line"
    );
}

/// Page text that is markup stays text in the DOM the browser builds.
#[test]
fn hostile_page_text_stays_text_in_the_browser() {
    let Some(chrome) = chromium() else { return };
    let dir = out_dir("hostile");
    let page = dir.join("hostile.html");
    std::fs::write(
        &page,
        common::page(
            "utf-8",
            "<p><a href=\"https://www.amazon.com/dp/B0X?tag=x-20\">&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</a></p>",
        ),
    )
    .unwrap();
    let report = dir.join("report.html");
    let out = run(check([&page]).args(["--format", "html", "-o"]).arg(&report));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let dom = browse(&chrome, &dir, &["--dump-dom"], &file_url(&report));
    assert!(!dom.contains("<img"), "no image element in the DOM");
    let rows = table_rows(&dom);
    assert_eq!(rows.len(), 2, "undisclosed and amazon-statement-missing");
    assert!(
        rows.iter()
            .all(|r| r[5] == "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "{rows:?}"
    );
}
