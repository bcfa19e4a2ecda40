//! `affcheck warc`: audit the HTML pages archived in WARC files (plain or `.warc.gz`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;

use affcheck::input::DEFAULT_MAX_PAGE_BYTES;
use affcheck::policy::Policy;
use affcheck::sink::{Event, Failure, NotAudited, ReportSink, Sink};
use affcheck::warc::{self, RunOptions, WarcInput};

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
        audit: super::audit_options(&config, &rules, notices)?,
    };

    let mut console = Console::new(sink, args.quiet).without_skip_notes();
    let mut records = 0usize;
    let mut corrupt = 0usize;
    let mut written = Ok(());
    warc::run(&inputs, &rules, options, |event| {
        let event = match event {
            warc::Event::Audited(page) => {
                records += 1;
                Event::Audited(page)
            }
            warc::Event::Skipped { uri, reason } => {
                records += 1;
                Event::NotAudited(NotAudited {
                    page: uri.unwrap_or_default(),
                    key: reason.key(),
                    reason: reason.to_string(),
                    // Responses that are not audited pages count as skipped; the other record
                    // types are only listed in the breakdown.
                    skipped: !matches!(reason, warc::NotAudited::RecordType(_)),
                })
            }
            warc::Event::Corrupt { file, error } => {
                corrupt += 1;
                let what = if error.is_fatal() {
                    "the rest of the file is not read"
                } else {
                    "skipped"
                };
                Event::Failed(Failure {
                    message: format!("{file}: {error}; {what}"),
                    target: file,
                    status: None,
                    attempts: 1,
                })
            }
            warc::Event::FileError { file, error } => Event::Failed(Failure {
                message: match error.kind() {
                    std::io::ErrorKind::NotFound => format!("{file}: no such file; check the path"),
                    _ => format!("{file}: cannot read: {error}"),
                },
                target: file,
                status: None,
                attempts: 1,
            }),
        };
        if written.is_ok() {
            written = console.event(event);
        }
    });
    let summary = match written.and_then(|()| console.into_inner().finish(started.elapsed())) {
        Ok(summary) => summary,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::from(2)),
        Err(e) => return Err(e).context("cannot write the report"),
    };
    if !args.quiet {
        let mut line = format!("affcheck: {summary}; {records} WARC records");
        if corrupt > 0 {
            line.push_str(&format!(", {corrupt} damaged"));
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
