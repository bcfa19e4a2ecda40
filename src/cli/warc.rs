//! `affcheck warc`: audit the HTML pages archived in WARC files (plain or `.warc.gz`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;

use affcheck::Auditor;
use affcheck::input::DEFAULT_MAX_PAGE_BYTES;
use affcheck::policy::Policy;
use affcheck::sink::ReportSink;
use affcheck::warc::{self, RunOptions, RunStats, WarcInput};

use super::{AuditArgs, Console, ReportArgs};

#[derive(Args, Debug)]
pub struct WarcArgs {
    /// WARC files (WARC 1.0 / 1.1, plain or gzip-compressed per record as in Common Crawl), or -
    /// for standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,

    /// Write the report to FILE (CSV unless --format says otherwise). Without it the report goes to
    /// standard output, as a readable table when that is a terminal.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    #[command(flatten)]
    report: ReportArgs,

    #[command(flatten)]
    audit: AuditArgs,

    /// Pages parsed and audited in parallel; one more thread reads and decompresses
    /// [default: number of CPUs].
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,

    /// Largest page audited, in bytes, after undoing chunked and gzip/deflate/br coding; larger
    /// responses are skipped without being read into memory and counted [default: 5242880].
    #[arg(long, value_name = "BYTES")]
    max_page_bytes: Option<u64>,

    /// Print no summary on standard error (damaged records and unreadable files are still
    /// reported).
    #[arg(short, long)]
    quiet: bool,
}

/// Runs `affcheck warc`.
pub fn run(args: WarcArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let config = super::load_config(args.report.config.as_deref())?;
    let baseline = super::load_baseline(args.report.baseline.as_deref(), &config)?;
    let rules = args.audit.ruleset(&config)?;
    let notices = args.audit.notices(&config);
    let fail_on = args.audit.fail_on(&config);
    let inputs: Vec<WarcInput> = args.files.iter().map(|f| WarcInput::parse(f)).collect();
    if inputs.iter().filter(|i| **i == WarcInput::Stdin).count() > 1 {
        anyhow::bail!("standard input (-) can be named only once");
    }
    let locations = super::locations(None, &[]);
    let reports = super::build_reports(&args.report, &config, args.output.as_deref(), &locations)?;
    let sink = ReportSink::new(Policy::new(&config, notices, baseline), reports);
    let threads = args
        .jobs
        .or(config.jobs)
        .unwrap_or_else(super::default_threads);
    let options = RunOptions {
        max_page_bytes: args
            .max_page_bytes
            .or(config.max_page_bytes)
            .unwrap_or(DEFAULT_MAX_PAGE_BYTES),
        threads,
    };
    let audit = super::audit_options(&config, &rules, notices)?;
    let auditor = Auditor::new(rules, audit);
    let mut console = Console::new(sink, args.quiet).without_skip_notes();
    let written = warc::run(&inputs, &auditor, options, &mut console);
    let (written, stats) = match written {
        Ok(stats) => (Ok(()), stats),
        Err(e) => (Err(e), RunStats::default()),
    };
    let summary = match written.and_then(|()| console.into_inner().finish(started.elapsed())) {
        Ok(summary) => summary,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::from(2)),
        Err(e) => return Err(e).context("cannot write the report"),
    };
    if !args.quiet {
        let mut line = format!("affcheck: {summary}; {} WARC records", stats.records);
        if stats.damaged > 0 {
            line.push_str(&format!(", {} damaged", stats.damaged));
        }
        if !summary.not_audited.is_empty() {
            let parts: Vec<String> = summary
                .not_audited
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            line.push_str(&format!(" (not audited: {})", parts.join(", ")));
        }
        eprintln!("{line}");
    }
    Ok(super::exit_code(summary.failed > 0, &summary, fail_on))
}
