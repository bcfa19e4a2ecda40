//! `affcheck warc`: audit the HTML pages archived in WARC files (plain or `.warc.gz`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;

use affcheck::input::DEFAULT_MAX_PAGE_BYTES;
use affcheck::report::{ReportWriter, Summary};
use affcheck::warc::{self, Event, RunOptions, WarcInput};

use super::{AuditArgs, ReportArgs};

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
    let mut baseline = super::load_baseline(args.report.baseline.as_deref(), &config)?;
    let rules = args.audit.ruleset(&config)?;
    let notices = args.audit.notices(&config);
    let fail_on = args.audit.fail_on(&config);
    let inputs: Vec<WarcInput> = args.files.iter().map(|f| WarcInput::parse(f)).collect();
    if inputs.iter().filter(|i| **i == WarcInput::Stdin).count() > 1 {
        anyhow::bail!("standard input (-) can be named only once");
    }
    let locations = super::locations(None, &[]);
    let mut reports =
        super::build_reports(&args.report, &config, args.output.as_deref(), &locations)?;
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

    let mut summary = Summary::default();
    // Records not audited, by kind (request, warcinfo, non-200, non-HTML, too large …).
    let mut not_audited: BTreeMap<String, usize> = BTreeMap::new();
    let mut records = 0usize;
    let mut corrupt = 0usize;
    let mut write_error: Option<std::io::Error> = None;
    warc::run(&inputs, &rules, options, |event| match event {
        Event::Audited(mut page) => {
            records += 1;
            if !super::filter_page(&mut page, &config, notices, baseline.as_mut()) {
                summary.ignored += 1;
                return;
            }
            summary.add(&page);
            if write_error.is_none()
                && let Err(e) = reports.write_page(&page)
            {
                write_error = Some(e);
            }
        }
        Event::Skipped { reason, .. } => {
            records += 1;
            // "skipped" counts responses that are not audited pages; the other record types are
            // only listed in the breakdown.
            if !matches!(reason, warc::NotAudited::RecordType(_)) {
                summary.skipped += 1;
            }
            *not_audited.entry(reason.key()).or_default() += 1;
        }
        Event::Corrupt { file, error } => {
            corrupt += 1;
            summary.failed += 1;
            let what = if error.is_fatal() {
                "the rest of the file is not read"
            } else {
                "skipped"
            };
            eprintln!("affcheck: {file}: {error}; {what}");
            let _ = reports.write_failed(&file, &error.to_string());
        }
        Event::FileError { file, error } => {
            summary.failed += 1;
            let message = match error.kind() {
                std::io::ErrorKind::NotFound => format!("{file}: no such file; check the path"),
                _ => format!("{file}: cannot read: {error}"),
            };
            eprintln!("affcheck: {message}");
            let _ = reports.write_failed(&file, &message);
        }
    });
    summary.elapsed = started.elapsed();
    summary.baseline = baseline.as_ref().map(|b| b.counts());
    let finished = write_error.map_or_else(|| reports.finish(&summary), Err);
    if let Err(e) = finished {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::from(2));
        }
        return Err(e).context("cannot write the report");
    }
    if !args.quiet {
        let mut line = format!("affcheck: {summary}; {records} WARC records");
        if corrupt > 0 {
            line.push_str(&format!(", {corrupt} damaged"));
        }
        if !not_audited.is_empty() {
            let parts: Vec<String> = not_audited
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            line.push_str(&format!(" (not audited: {})", parts.join(", ")));
        }
        eprintln!("{line}");
    }
    Ok(super::exit_code(summary.failed > 0, &summary, fail_on))
}
