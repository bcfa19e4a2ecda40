//! `affcheck crawl`: polite, resumable site-wide crawls.

use std::fs::File;
use std::io::{BufWriter, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use regex::Regex;
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use affcheck::Auditor;
use affcheck::crawl::{self, CrawlFiles, CrawlOptions, CrawlStats};
use affcheck::fetch::FetchConfig;
use affcheck::input::{DEFAULT_MAX_PAGE_BYTES, USER_AGENT};
use affcheck::policy::Policy;
use affcheck::report::{Summary, rule_counts};
use affcheck::sink::{ErrorsCsv, Event, Progress, ReportSink, Sink};

use super::{AuditArgs, ReportArgs};

#[derive(Args, Debug)]
pub struct CrawlArgs {
    /// Where the crawl starts (http or https URLs). The crawl stays on their hosts.
    #[arg(value_name = "START_URL")]
    starts: Vec<Url>,

    /// Read this sitemap (or sitemap index, plain or gzip) too; repeatable. Sitemaps named in
    /// robots.txt are always read.
    #[arg(long, value_name = "URL")]
    sitemap: Vec<Url>,

    /// Write the report to FILE (CSV unless --format says otherwise; streaming formats are
    /// flushed as pages are audited). Without it the report goes to standard output, as a
    /// readable table when that is a terminal.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    #[command(flatten)]
    report: ReportArgs,

    /// Also write every affiliate link found, compliant or not, with its status, to FILE (CSV).
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,

    /// Write URLs that could not be fetched to FILE (CSV: url,status,error,attempts). Without it
    /// they are printed on standard error.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,

    /// Keep the frontier, the visited set and every result in FILE so that a crawl stopped at any
    /// moment (even by kill -9) finishes the job when run again with the same command: the
    /// reports (every --format, --inventory, --errors) are rewritten from FILE, then the crawl
    /// goes on; no row is lost or written twice. Needs --output or --output-dir.
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

    /// Longest wait honoured from a server's Retry-After header (and the longest backoff), in
    /// seconds; a longer request is waited out this long, then retried [default: 60].
    #[arg(long, value_name = "SECS")]
    retry_after_max: Option<u64>,

    /// Fetch internal addresses (loopback, private and link-local networks, cloud metadata) for
    /// any host. Without it only the hosts of the start URLs and --sitemap URLs may be on such
    /// addresses, so a page, sitemap or redirect cannot steer the crawl into your network.
    #[arg(long)]
    allow_private: bool,

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

    /// Send this header ('Name: value') only to the exact origins (scheme, host, port) of the start
    /// URLs and their www. twins: never to other hosts or ports, nor over http for an https start;
    /// repeatable.
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

/// The crawl's view on the terminal: a progress bar (or a line every ten seconds when standard
/// error is not a terminal), notes, and failures when there is no errors file; then every event
/// on to the report chain.
struct CrawlConsole {
    sink: ReportSink,
    bar: Option<ProgressBar>,
    quiet: bool,
    last_line: Instant,
}

impl CrawlConsole {
    fn say(&self, message: &str) {
        let message = affcheck::report::printable(message);
        match &self.bar {
            Some(bar) => bar.println(format!("affcheck: {message}")),
            None => eprintln!("affcheck: {message}"),
        }
    }

    fn progress(&mut self, p: &Progress) {
        let secs = p.elapsed_ms as f64 / 1000.0;
        let rate = p.pages as f64 / secs.max(0.001);
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
}

impl Sink for CrawlConsole {
    fn event(&mut self, event: Event) -> std::io::Result<()> {
        match &event {
            Event::Progress(p) if !self.quiet => self.progress(p),
            Event::Note(note) if !self.quiet => self.say(note),
            Event::NotAudited(n) if n.skipped && !self.quiet => {
                self.say(&format!("note: {}: skipped: {}", n.page, n.reason));
            }
            // With an errors file the list is there; an unreachable robots.txt (the whole site off
            // limits) is still worth a line.
            Event::Failed(f)
                if !self.quiet
                    && (!self.sink.has_errors_file() || f.target.ends_with("/robots.txt")) =>
            {
                let what = match f.status {
                    Some(s) if f.message == format!("HTTP {s}") => f.message.clone(),
                    Some(s) => format!("HTTP {s}: {}", f.message),
                    None => f.message.clone(),
                };
                self.say(&format!(
                    "{}: {what} (after {} attempt{})",
                    f.target,
                    f.attempts,
                    if f.attempts == 1 { "" } else { "s" }
                ));
            }
            _ => {}
        }
        self.sink.event(event)
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
    let config = super::load_config(args.report.config.as_deref())?;
    let baseline = super::load_baseline(args.report.baseline.as_deref(), &config)?;
    let c = &config.crawl;
    if args.starts.is_empty() && args.sitemap.is_empty() {
        bail!("give a start URL (affcheck crawl https://example.com/) or --sitemap URL");
    }
    let output = args.output.clone().or_else(|| config.output.clone());
    let output_dir = args
        .report
        .output_dir
        .clone()
        .or_else(|| config.output_dir.clone());
    if args.state.is_some() && output.is_none() && output_dir.is_none() {
        bail!(
            "--state needs --output FILE or --output-dir DIR: a resumed crawl rewrites its reports from the state file"
        );
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
    let mut fetch = FetchConfig::new(
        Duration::from_secs(args.timeout.or(config.timeout).unwrap_or(20).max(1)),
        args.max_page_bytes
            .or(config.max_page_bytes)
            .unwrap_or(DEFAULT_MAX_PAGE_BYTES),
    );
    fetch.concurrency = concurrency;
    fetch.per_host = per_host;
    fetch.delay = Duration::from_millis(args.delay_ms.or(c.delay_ms).unwrap_or(0));
    fetch.retries = args.retries;
    if let Some(secs) = args.retry_after_max {
        fetch.max_wait = Duration::from_secs(secs);
    }
    fetch.allow_private = args.allow_private || c.allow_private.unwrap_or(false);
    fetch.user_agent = args
        .user_agent
        .clone()
        .or_else(|| c.user_agent.clone())
        .unwrap_or_else(|| USER_AGENT.to_string());
    fetch.headers = headers;
    let options = CrawlOptions {
        starts: args.starts.clone(),
        sitemaps: args.sitemap.clone(),
        max_pages: args.max_pages.or(c.max_pages).unwrap_or(10_000),
        max_depth: args.max_depth.or(c.max_depth),
        subdomains: args.subdomains || c.subdomains.unwrap_or(false),
        include: regexes("--include", &include)?,
        exclude: regexes("--exclude", &exclude)?,
        ignore_robots: args.ignore_robots || c.ignore_robots.unwrap_or(false),
        fetch,
        cpu_threads: super::default_threads(),
    };
    let audit = super::audit_options(&config, &rules, notices)?;
    let files = CrawlFiles {
        state: args.state.clone(),
        warc: args.warc.clone(),
    };
    let locations = super::locations(None, &[]);
    let reports = super::build_reports(&args.report, &config, args.output.as_deref(), &locations)?;
    let mut sink = ReportSink::new(Policy::new(&config, notices, baseline), reports);
    if let Some(path) = args.inventory.as_ref().or(config.inventory.as_ref()) {
        sink = sink.with_inventory(super::inventory_file(path)?);
    }
    if let Some(path) = &args.errors {
        let file = File::create(path)
            .with_context(|| format!("cannot create the errors file {}", path.display()))?;
        sink = sink.with_errors(ErrorsCsv::new(Box::new(BufWriter::new(file)))?);
    }
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let mut console = CrawlConsole {
        sink,
        bar,
        quiet: args.quiet,
        last_line: Instant::now(),
    };
    let result = crawl::crawl(options, Auditor::new(rules, audit), &files, &mut console);
    if let Some(bar) = &console.bar {
        bar.finish_and_clear();
    }
    let stats = result.context("the crawl stopped")?;
    let summary = match console.sink.finish(stats.elapsed) {
        Ok(summary) => summary,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::from(2)),
        Err(e) => return Err(e).context("cannot write the report"),
    };
    if !args.quiet {
        eprintln!("affcheck: {}", summary_line(&summary, &stats));
        if let Some(b) = &summary.baseline {
            eprintln!(
                "affcheck: baseline: {} new, {} baselined, {} fixed",
                summary.by_rule.values().sum::<usize>(),
                b.baselined,
                b.fixed
            );
        }
        if summary.ignored > 0 {
            eprintln!(
                "affcheck: {} pages ignored by the config's ignore_paths",
                summary.ignored
            );
        }
    }
    // Not a single page audited (unreachable site, everything disallowed or failing) is a
    // crawl that did not do its job.
    Ok(super::exit_code(summary.pages == 0, &summary, fail_on))
}

/// The closing line: pages, errors, links and findings by rule, what was not audited, and the
/// rate of this run.
fn summary_line(a: &Summary, stats: &CrawlStats) -> String {
    let secs = stats.elapsed.as_secs_f64();
    let s = |n: usize| if n == 1 { "" } else { "s" };
    let total: usize = a.by_rule.values().sum();
    let mut line = format!(
        "{} page{}, {} error{}, {} affiliate link{}, {total} finding{}{}",
        a.pages,
        s(a.pages),
        a.failed,
        s(a.failed),
        a.affiliate_links,
        s(a.affiliate_links),
        s(total),
        rule_counts(&a.by_rule)
    );
    if !a.not_audited.is_empty() {
        let parts: Vec<String> = a
            .not_audited
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        line.push_str(&format!("; {}", parts.join(", ")));
    }
    if stats.left_in_frontier > 0 {
        line.push_str(&format!(
            "; stopped at --max-pages with {} URLs not crawled",
            stats.left_in_frontier
        ));
    }
    let rate = if secs > 0.0 {
        stats.pages_this_run as f64 / secs
    } else {
        0.0
    };
    line.push_str(&format!(" in {secs:.1} s ({rate:.0} pages/s)"));
    line
}
