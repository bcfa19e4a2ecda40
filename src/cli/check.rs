//! `affcheck check`: audit files, folders, URLs and standard input.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use url::Url;

use affcheck::input::{self, Reader, Target};
use affcheck::pipeline::{self, Outcome};
use affcheck::report::{InventoryReport, ReportWriter, Summary};

use super::{AuditArgs, ReportArgs};

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

    /// Largest page read, in bytes (files and responses) [default: 5242880].
    #[arg(long, value_name = "BYTES")]
    max_page_bytes: Option<u64>,

    /// Print no summary or notes on standard error (errors are still printed).
    #[arg(short, long)]
    quiet: bool,
}

/// Runs `affcheck check`.
pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let config = super::load_config(args.report.config.as_deref())?;
    let mut baseline = super::load_baseline(args.report.baseline.as_deref(), &config)?;
    let rules = args.audit.ruleset(&config)?;
    let base_url = args.base_url.clone().or_else(|| config.base_url.clone());
    let notices = args.audit.notices(&config);
    let fail_on = args.audit.fail_on(&config);

    let mut summary = Summary::default();
    let mut targets = Vec::new();
    for arg in &args.targets {
        match Target::parse(arg) {
            Ok(t) => targets.push(t),
            Err(err) => {
                eprintln!("affcheck: {err}");
                summary.failed += 1;
            }
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
    let mut reports =
        super::build_reports(&args.report, &config, args.output.as_deref(), &locations)?;
    let mut inventory = match args.inventory.as_ref().or(config.inventory.as_ref()) {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot create the inventory file {}", path.display()))?;
            Some(InventoryReport::new(BufWriter::new(file))?)
        }
        None => None,
    };

    let reader = Reader::new(
        Duration::from_secs(args.timeout.or(config.timeout).unwrap_or(20)),
        args.max_page_bytes
            .or(config.max_page_bytes)
            .unwrap_or(input::DEFAULT_MAX_PAGE_BYTES),
    );
    let threads = args
        .jobs
        .or(config.jobs)
        .unwrap_or_else(super::default_threads);
    let opts = super::audit_options(&config, &rules, notices)?;
    let mut write_error: Option<std::io::Error> = None;
    pipeline::run(
        input::sources(&targets, base_url.as_ref()),
        &reader,
        &rules,
        opts,
        threads,
        |outcome| match outcome {
            Outcome::Audited(mut page) => {
                if !super::filter_page(&mut page, &config, notices, baseline.as_mut()) {
                    summary.ignored += 1;
                    return;
                }
                summary.add(&page);
                if write_error.is_none()
                    && let Err(e) =
                        reports
                            .write_page(&page)
                            .and_then(|()| match inventory.as_mut() {
                                Some(inv) => inv.write_page(&page),
                                None => Ok(()),
                            })
                {
                    write_error = Some(e);
                }
            }
            Outcome::Skipped { page, reason } => {
                summary.skipped += 1;
                let _ = reports.write_skipped(&page, &reason.to_string());
                if !args.quiet {
                    eprintln!("affcheck: note: {page}: skipped: {reason}");
                }
            }
            Outcome::Failed(err) => {
                summary.failed += 1;
                let _ = reports.write_failed(err.target(), &err.to_string());
                eprintln!("affcheck: {err}");
            }
        },
    );
    summary.elapsed = started.elapsed();
    summary.baseline = baseline.as_ref().map(|b| b.counts());
    let finished = write_error.map_or_else(|| reports.finish(&summary), Err);
    if let Err(e) = finished {
        // A closed pipe (`affcheck … | head`) is not worth an error message.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::from(2));
        }
        return Err(e).context("cannot write the report");
    }
    if !args.quiet {
        eprintln!("affcheck: {summary}");
    }
    Ok(super::exit_code(summary.failed > 0, &summary, fail_on))
}
