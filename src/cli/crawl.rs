//! `affcheck crawl`: polite, resumable site-wide crawls.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use regex::Regex;
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use affcheck::crawl::fetch::FetchConfig;
use affcheck::crawl::{self, CrawlOptions, Observer, Outputs, Progress};
use affcheck::findings::AuditOptions;
use affcheck::input::{DEFAULT_MAX_PAGE_BYTES, USER_AGENT};
use affcheck::rules::Ruleset;

use super::FailOn;

#[derive(Args, Debug)]
pub struct CrawlArgs {
    /// Where the crawl starts (http or https URLs). The crawl stays on their hosts.
    #[arg(value_name = "START_URL")]
    starts: Vec<Url>,

    /// Read this sitemap (or sitemap index, plain or gzip) too; repeatable. Sitemaps named in
    /// robots.txt are always read.
    #[arg(long, value_name = "URL")]
    sitemap: Vec<Url>,

    /// Write the CSV report to FILE (rows are appended and flushed as pages are audited). Without
    /// it the CSV goes to standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Write URLs that could not be fetched to FILE (CSV: url,status,error,attempts). Without it
    /// they are printed on standard error.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,

    /// Keep the frontier and visited set in FILE so that a crawl stopped at any moment (even by
    /// kill -9) finishes the job when run again with the same command: no report row is lost or
    /// written twice. Needs --output.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Stop after auditing this many pages; 0 for no limit.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    max_pages: usize,

    /// Follow links at most this many steps from a start URL or sitemap entry (0: audit only the
    /// start URLs and sitemap pages).
    #[arg(long, value_name = "N")]
    max_depth: Option<u32>,

    /// Requests in flight at once, over all hosts.
    #[arg(long, default_value_t = 16, value_name = "N")]
    concurrency: usize,

    /// Requests in flight at once to one host.
    #[arg(long, default_value_t = 8, value_name = "N")]
    per_host: usize,

    /// Minimum gap between two requests to one host, in milliseconds (robots.txt Crawl-delay is
    /// honoured when larger).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    delay_ms: u64,

    /// Seconds to wait for each response, body included.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    timeout: u64,

    /// Retries for 429, 5xx answers and connection errors (429 and 503 honour Retry-After).
    #[arg(long, default_value_t = 3, value_name = "N")]
    retries: u32,

    /// Crawl only URLs matching this regular expression; repeatable (any may match).
    #[arg(long, value_name = "REGEX")]
    include: Vec<String>,

    /// Do not crawl URLs matching this regular expression; repeatable.
    #[arg(long, value_name = "REGEX")]
    exclude: Vec<String>,

    /// The User-Agent header; robots.txt rules are matched against its first word.
    #[arg(long, default_value = USER_AGENT, value_name = "TEXT")]
    user_agent: String,

    /// Send this header ('Name: value') to the start hosts only, never to other hosts; repeatable.
    #[arg(long, value_name = "HEADER")]
    header: Vec<String>,

    /// Crawl pages that robots.txt disallows.
    #[arg(long)]
    ignore_robots: bool,

    /// Crawl every subdomain of the start URLs' registrable domains, not just their hosts.
    #[arg(long)]
    subdomains: bool,

    /// Largest response read, in bytes, after decompression; larger pages are reported as errors.
    #[arg(long, default_value_t = DEFAULT_MAX_PAGE_BYTES, value_name = "BYTES")]
    max_page_bytes: u64,

    /// Add the rules files in DIR (or the file itself) on top of the defaults; repeatable.
    #[arg(long, value_name = "DIR")]
    rules: Vec<PathBuf>,

    /// Use only the files given with --rules, not the built-in rules.
    #[arg(long, requires = "rules")]
    no_default_rules: bool,

    /// Lowest severity that makes the run exit with status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "LEVEL")]
    fail_on: FailOn,

    /// Also report notice-level findings: missing-rel-sponsored and weak-disclosure.
    #[arg(long)]
    notices: bool,

    /// Print no progress, notes or summary on standard error.
    #[arg(short, long)]
    quiet: bool,
}

/// Draws a progress bar on a terminal, prints a line every ten seconds otherwise.
struct Display {
    bar: Option<ProgressBar>,
    quiet: bool,
    last_line: Instant,
}

impl Observer for Display {
    fn progress(&mut self, p: &Progress) {
        if self.quiet {
            return;
        }
        let rate = p.pages as f64 / p.elapsed.as_secs_f64().max(0.001);
        let text = format!(
            "{} pages, {} queued, {} errors, {rate:.0} pages/s",
            p.pages, p.queued, p.errors
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(p.done as u64);
                bar.set_message(text);
            }
            None => {
                if self.last_line.elapsed() >= Duration::from_secs(10) {
                    self.last_line = Instant::now();
                    eprintln!("affcheck: crawling: {text}");
                }
            }
        }
    }

    fn note(&mut self, message: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(format!("affcheck: {message}")),
            None => eprintln!("affcheck: {message}"),
        }
    }
}

fn parse_header(h: &str) -> Result<(HeaderName, HeaderValue)> {
    let (name, value) = h
        .split_once(':')
        .with_context(|| format!("--header {h:?}: write it as 'Name: value'"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).with_context(|| {
        format!(
            "--header {h:?}: {:?} is not a valid header name",
            name.trim()
        )
    })?;
    let value = HeaderValue::from_str(value.trim())
        .with_context(|| format!("--header {h:?}: the value holds characters a header cannot"))?;
    Ok((name, value))
}

fn regexes(flag: &str, patterns: &[String]) -> Result<Vec<Regex>> {
    patterns
        .iter()
        .map(|p| {
            Regex::new(p).with_context(|| format!("{flag} {p:?} is not a valid regular expression"))
        })
        .collect()
}

/// Runs `affcheck crawl`.
pub fn run(args: CrawlArgs) -> Result<ExitCode> {
    if args.starts.is_empty() && args.sitemap.is_empty() {
        bail!("give a start URL (affcheck crawl https://example.com/) or --sitemap URL");
    }
    if args.concurrency == 0 || args.per_host == 0 {
        bail!("--concurrency and --per-host must be at least 1");
    }
    let rules =
        Ruleset::load(&args.rules, !args.no_default_rules).context("cannot load the rules")?;
    let headers = args
        .header
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>>>()?;
    let options = CrawlOptions {
        starts: args.starts.clone(),
        sitemaps: args.sitemap.clone(),
        max_pages: args.max_pages,
        max_depth: args.max_depth,
        subdomains: args.subdomains,
        include: regexes("--include", &args.include)?,
        exclude: regexes("--exclude", &args.exclude)?,
        ignore_robots: args.ignore_robots,
        fetch: FetchConfig {
            concurrency: args.concurrency,
            per_host: args.per_host,
            delay: Duration::from_millis(args.delay_ms),
            timeout: Duration::from_secs(args.timeout.max(1)),
            max_bytes: args.max_page_bytes,
            retries: args.retries,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            user_agent: args.user_agent.clone(),
            headers,
            header_hosts: Vec::new(),
        },
        audit: AuditOptions {
            notices: args.notices,
        },
        parse_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let outputs = Outputs {
        report: args.output.clone(),
        errors: args.errors.clone(),
        state: args.state.clone(),
    };
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let mut display = Display {
        bar,
        quiet: args.quiet,
        last_line: Instant::now(),
    };
    let result = crawl::crawl(options, Arc::new(rules), &outputs, &mut display);
    if let Some(bar) = &display.bar {
        bar.finish_and_clear();
    }
    let summary = result.context("the crawl stopped")?;
    if !args.quiet {
        eprintln!("affcheck: {summary}");
    }
    let failing = match args.fail_on {
        FailOn::Error => summary.error_findings,
        FailOn::Warning => summary.warning_findings,
        FailOn::Never => 0,
    };
    Ok(if summary.pages == 0 && summary.errors > 0 {
        ExitCode::from(2)
    } else if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
