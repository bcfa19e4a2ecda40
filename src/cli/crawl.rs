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

use affcheck::baseline::Baseline;
use affcheck::config::Config;
use affcheck::crawl::{self, CrawlOptions, Observer, Outputs, Progress};
use affcheck::fetch::FetchConfig;
use affcheck::findings::PageReport;
use affcheck::input::{DEFAULT_MAX_PAGE_BYTES, USER_AGENT};

use super::AuditArgs;

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

    /// Report only findings that are not in this earlier CSV report (matched on page, rule and
    /// link), and fail only on those.
    #[arg(long, value_name = "OLD.csv")]
    baseline: Option<PathBuf>,

    /// Read settings from FILE instead of ./affcheck.toml (command-line flags win).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Write URLs that could not be fetched to FILE (CSV: url,status,error,attempts). Without it
    /// they are printed on standard error.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,

    /// Keep the frontier and visited set in FILE so that a crawl stopped at any moment (even by
    /// kill -9) finishes the job when run again with the same command: no report row is lost or
    /// written twice. Needs --output.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Also archive what the crawl fetched to FILE as WARC records (every page response whose body
    /// was read, and page redirects), one gzip member per record when FILE ends in .gz. Audit it
    /// again later with `affcheck warc FILE`. With --state, a resumed crawl appends to FILE: pages
    /// that were in flight when the crawl stopped are fetched again and may appear twice.
    #[arg(long, value_name = "FILE")]
    warc: Option<PathBuf>,

    /// Stop after auditing this many pages; 0 for no limit [default: 10000].
    #[arg(long, value_name = "N")]
    max_pages: Option<usize>,

    /// Follow links at most this many steps from a start URL or sitemap entry (0: audit only the
    /// start URLs and sitemap pages).
    #[arg(long, value_name = "N")]
    max_depth: Option<u32>,

    /// Requests in flight at once, over all hosts [default: 16].
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,

    /// Requests in flight at once to one host [default: 8].
    #[arg(long, value_name = "N")]
    per_host: Option<usize>,

    /// Minimum gap between two requests to one host, in milliseconds (robots.txt Crawl-delay is
    /// honoured when larger) [default: 0].
    #[arg(long, value_name = "MS")]
    delay_ms: Option<u64>,

    /// Seconds to wait for each response, body included [default: 20].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,

    /// Retries for 429, 5xx answers and connection errors (429 and 503 honour Retry-After).
    #[arg(long, default_value_t = 3, value_name = "N")]
    retries: u32,

    /// Crawl only URLs matching this regular expression; repeatable (any may match).
    #[arg(long, value_name = "REGEX")]
    include: Vec<String>,

    /// Do not crawl URLs matching this regular expression; repeatable.
    #[arg(long, value_name = "REGEX")]
    exclude: Vec<String>,

    /// The User-Agent header; robots.txt rules are matched against its first word
    /// [default: affcheck/VERSION (+repository URL)].
    #[arg(long, value_name = "TEXT")]
    user_agent: Option<String>,

    /// Send this header ('Name: value') to the start hosts only, never to other hosts; repeatable.
    #[arg(long, value_name = "HEADER")]
    header: Vec<String>,

    /// Crawl pages that robots.txt disallows.
    #[arg(long)]
    ignore_robots: bool,

    /// Crawl every subdomain of the start URLs' registrable domains, not just their hosts.
    #[arg(long)]
    subdomains: bool,

    /// Largest response read, in bytes, after decompression; larger pages are reported as errors
    /// [default: 5242880].
    #[arg(long, value_name = "BYTES")]
    max_page_bytes: Option<u64>,

    #[command(flatten)]
    audit: AuditArgs,

    /// Print no progress, notes or summary on standard error.
    #[arg(short, long)]
    quiet: bool,
}

/// Draws a progress bar on a terminal, prints a line every ten seconds otherwise; applies the
/// config and baseline to each page before its rows are written.
struct Display {
    bar: Option<ProgressBar>,
    quiet: bool,
    last_line: Instant,
    config: Config,
    notices: bool,
    baseline: Option<Baseline>,
    ignored: usize,
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

    fn filter(&mut self, page: &mut PageReport) {
        if !super::filter_page(page, &self.config, self.notices, self.baseline.as_mut()) {
            self.ignored += 1;
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
    let config = super::load_config(args.config.as_deref())?;
    let baseline = super::load_baseline(args.baseline.as_deref(), &config)?;
    let c = &config.crawl;
    if args.starts.is_empty() && args.sitemap.is_empty() {
        bail!("give a start URL (affcheck crawl https://example.com/) or --sitemap URL");
    }
    let concurrency = args.concurrency.or(c.concurrency).unwrap_or(16);
    let per_host = args.per_host.or(c.per_host).unwrap_or(8);
    if concurrency == 0 || per_host == 0 {
        bail!("--concurrency and --per-host must be at least 1");
    }
    let rules = args.audit.ruleset(&config)?;
    let mut header_lines = args.header.clone();
    if header_lines.is_empty()
        && let Some(h) = &c.headers
    {
        header_lines = h.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    }
    let headers = header_lines
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>>>()?;
    let include = if args.include.is_empty() {
        c.include.clone().unwrap_or_default()
    } else {
        args.include.clone()
    };
    let exclude = if args.exclude.is_empty() {
        c.exclude.clone().unwrap_or_default()
    } else {
        args.exclude.clone()
    };
    let notices = args.audit.notices(&config);
    let fail_on = args.audit.fail_on(&config);
    let options = CrawlOptions {
        starts: args.starts.clone(),
        sitemaps: args.sitemap.clone(),
        max_pages: args.max_pages.or(c.max_pages).unwrap_or(10_000),
        max_depth: args.max_depth.or(c.max_depth),
        subdomains: args.subdomains || c.subdomains.unwrap_or(false),
        include: regexes("--include", &include)?,
        exclude: regexes("--exclude", &exclude)?,
        ignore_robots: args.ignore_robots || c.ignore_robots.unwrap_or(false),
        fetch: FetchConfig {
            concurrency,
            per_host,
            delay: Duration::from_millis(args.delay_ms.or(c.delay_ms).unwrap_or(0)),
            timeout: Duration::from_secs(args.timeout.or(config.timeout).unwrap_or(20).max(1)),
            max_bytes: args
                .max_page_bytes
                .or(config.max_page_bytes)
                .unwrap_or(DEFAULT_MAX_PAGE_BYTES),
            retries: args.retries,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            user_agent: args
                .user_agent
                .clone()
                .or_else(|| c.user_agent.clone())
                .unwrap_or_else(|| USER_AGENT.to_string()),
            headers,
            header_hosts: Vec::new(),
        },
        audit: super::audit_options(&config, &rules, notices)?,
        parse_threads: super::default_threads(),
    };
    let outputs = Outputs {
        report: args.output.clone().or_else(|| config.output.clone()),
        errors: args.errors.clone(),
        state: args.state.clone(),
        warc: args.warc.clone(),
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
        config,
        notices,
        baseline,
        ignored: 0,
    };
    let result = crawl::crawl(options, Arc::new(rules), &outputs, &mut display);
    if let Some(bar) = &display.bar {
        bar.finish_and_clear();
    }
    let summary = result.context("the crawl stopped")?;
    if !args.quiet {
        eprintln!("affcheck: {summary}");
        if let Some(b) = &display.baseline {
            let c = b.counts();
            eprintln!(
                "affcheck: baseline: {} new, {} baselined, {} fixed",
                summary.audit.by_rule.values().sum::<usize>(),
                c.baselined,
                c.fixed
            );
        }
        if display.ignored > 0 {
            eprintln!(
                "affcheck: {} pages ignored by the config's ignore_paths",
                display.ignored
            );
        }
    }
    // Not a single page audited (unreachable site, everything disallowed or failing) is a
    // crawl that did not do its job.
    Ok(super::exit_code(
        summary.audit.pages == 0,
        &summary.audit,
        fail_on,
    ))
}
