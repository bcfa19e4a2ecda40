//! `affcheck check`: audit files, folders, URLs and standard input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use url::Url;

use affcheck::Auditor;
use affcheck::fetch::FetchConfig;
use affcheck::input::{self, Reader, Target};
use affcheck::pipeline;
use affcheck::policy::Policy;
use affcheck::sink::{ReportSink, Sink};

use super::{AuditArgs, Console, ReportArgs};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Pages to audit: http(s) URLs, HTML files, folders (every *.html / *.htm below, sorted) or - for
    /// standard input.
    #[arg(required = true, value_name = "TARGET")]
    targets: Vec<String>,

    /// Write the report to FILE (CSV unless --format says otherwise). Without it the report goes to
    /// standard output, as a readable table when that is a terminal.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    #[command(flatten)]
    report: ReportArgs,

    /// Also write every affiliate link found, compliant or not, with its status, to FILE (CSV).
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,

    /// Public URL of the folder targets: DIR/a/b.html is reported as URL/a/b.html and its relative
    /// links resolve as on the live site. Also the base for standard input.
    #[arg(long, value_name = "URL")]
    base_url: Option<Url>,

    #[command(flatten)]
    audit: AuditArgs,

    /// Pages audited in parallel [default: number of CPUs].
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,

    /// Seconds to wait for each URL [default: 20].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,

    /// Retries of a URL after a 429, a 5xx answer or a connection error (with backoff, honouring
    /// Retry-After). A manual audit answers fast by default; the crawl retries 3 times.
    #[arg(long, value_name = "N", default_value_t = 0)]
    retries: u32,

    /// Largest page read, in bytes (files and responses) [default: 5242880].
    #[arg(long, value_name = "BYTES")]
    max_page_bytes: Option<u64>,

    /// Longest wait honoured from a server's Retry-After header (and the longest backoff), in
    /// seconds; a longer request is waited out this long, then retried [default: 60].
    #[arg(long, value_name = "SECS")]
    retry_after_max: Option<u64>,

    /// Follow redirects and cloaked links to internal addresses too (loopback, private and
    /// link-local networks, cloud metadata). Without it only the hosts of the URLs given may be on
    /// such addresses.
    #[arg(long)]
    allow_private: bool,

    /// Print no summary or notes on standard error (errors are still printed).
    #[arg(short, long)]
    quiet: bool,
}

/// Runs `affcheck check`.
pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let config = super::load_config(args.report.config.as_deref())?;
    let baseline = super::load_baseline(args.report.baseline.as_deref(), &config)?;
    let rules = args.audit.ruleset(&config)?;
    let base_url = args.base_url.clone().or_else(|| config.base_url.clone());
    let notices = args.audit.notices(&config);
    let fail_on = args.audit.fail_on(&config);

    let mut bad_targets = Vec::new();
    let mut targets = Vec::new();
    for arg in &args.targets {
        match Target::parse(arg) {
            Ok(t) => targets.push(t),
            Err(err) => bad_targets.push(err),
        }
    }
    if targets.iter().filter(|t| **t == Target::Stdin).count() > 1 {
        anyhow::bail!("standard input (-) can be named only once");
    }
    let folders: Vec<PathBuf> = targets
        .iter()
        .filter_map(|t| match t {
            Target::Path(p) if p.is_dir() => Some(p.clone()),
            _ => None,
        })
        .collect();
    let locations = super::locations(base_url.as_ref(), &folders);
    let reports = super::build_reports(&args.report, &config, args.output.as_deref(), &locations)?;
    let mut sink = ReportSink::new(Policy::new(&config, notices, baseline), reports);
    if let Some(path) = args.inventory.as_ref().or(config.inventory.as_ref()) {
        sink = sink.with_inventory(super::inventory_file(path)?);
    }
    let mut fetch = FetchConfig::new(
        Duration::from_secs(args.timeout.or(config.timeout).unwrap_or(20).max(1)),
        args.max_page_bytes
            .or(config.max_page_bytes)
            .unwrap_or(input::DEFAULT_MAX_PAGE_BYTES),
    );
    fetch.retries = args.retries;
    if let Some(secs) = args.retry_after_max {
        fetch.max_wait = Duration::from_secs(secs);
    }
    fetch.allow_private = args.allow_private;
    fetch.trusted_hosts = targets
        .iter()
        .filter_map(|t| match t {
            Target::Url(u) => u.host_str().map(str::to_string),
            _ => None,
        })
        .collect();
    let reader = Reader::with_fetch(fetch);
    let threads = args
        .jobs
        .or(config.jobs)
        .unwrap_or_else(super::default_threads);
    let options = super::audit_options(&config, &rules, notices)?;
    let auditor = Auditor::new(rules, options);
    let mut console = Console::new(sink, args.quiet);
    let mut written = bad_targets
        .iter()
        .try_for_each(|err| console.event(pipeline::failed(err)));
    if written.is_ok() {
        written = pipeline::run(
            input::sources(&targets, base_url.as_ref()),
            &reader,
            &auditor,
            threads,
            &mut console,
        );
    }
    let summary = match written.and_then(|()| console.into_inner().finish(started.elapsed())) {
        Ok(summary) => summary,
        // A closed pipe (`affcheck … | head`) is not worth an error message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::from(2)),
        Err(e) => return Err(e).context("cannot write the report"),
    };
    if !args.quiet {
        eprintln!("affcheck: {summary}");
    }
    Ok(super::exit_code(summary.failed > 0, &summary, fail_on))
}
