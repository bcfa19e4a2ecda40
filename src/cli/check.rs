//! `affcheck check`: audit files, folders, URLs and standard input.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use url::Url;

use affcheck::findings::{AuditOptions, PageReport, Severity};
use affcheck::input::{self, Reader, Target};
use affcheck::pipeline::{self, Outcome};
use affcheck::report::{CsvReport, InventoryReport, Style, Summary, TableReport};
use affcheck::rules::Ruleset;

use super::FailOn;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Pages to audit: http(s) URLs, HTML files, folders (every *.html / *.htm below, sorted) or - for
    /// standard input.
    #[arg(required = true, value_name = "TARGET")]
    targets: Vec<String>,

    /// Write the CSV report to FILE. Without it the CSV goes to standard output, or a readable table
    /// when standard output is a terminal.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also write every affiliate link found, compliant or not, with its status, to FILE (CSV).
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,

    /// Public URL of the folder targets: DIR/a/b.html is reported as URL/a/b.html and its relative
    /// links resolve as on the live site. Also the base for standard input.
    #[arg(long, value_name = "URL")]
    base_url: Option<Url>,

    /// Add the rules files in DIR (or the file itself) on top of the defaults; repeatable. An entry
    /// with the id of a default entry replaces it.
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

    /// Pages audited in parallel [default: number of CPUs].
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,

    /// Seconds to wait for each URL.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    timeout: u64,

    /// Largest page read, in bytes (files and responses).
    #[arg(long, default_value_t = input::DEFAULT_MAX_PAGE_BYTES, value_name = "BYTES")]
    max_page_bytes: u64,

    /// Print no summary or notes on standard error (errors are still printed).
    #[arg(short, long)]
    quiet: bool,
}

/// Where findings go. One per run, so the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Sink {
    Csv(CsvReport<Box<dyn Write>>),
    Table(TableReport<std::io::Stdout>),
}

impl Sink {
    fn write_page(&mut self, page: &PageReport) -> std::io::Result<()> {
        match self {
            Sink::Csv(w) => w.write_page(page),
            Sink::Table(w) => w.write_page(page),
        }
    }
}

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let rules =
        Ruleset::load(&args.rules, !args.no_default_rules).context("cannot load the rules")?;
    let mut sink = match &args.output {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot create the report file {}", path.display()))?;
            Sink::Csv(CsvReport::new(
                Box::new(BufWriter::new(file)) as Box<dyn Write>
            )?)
        }
        None if std::io::stdout().is_terminal() => {
            Sink::Table(TableReport::new(std::io::stdout(), Style::detect(true)))
        }
        None => Sink::Csv(CsvReport::new(
            Box::new(BufWriter::new(std::io::stdout())) as Box<dyn Write>
        )?),
    };
    let mut inventory = match &args.inventory {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot create the inventory file {}", path.display()))?;
            Some(InventoryReport::new(BufWriter::new(file))?)
        }
        None => None,
    };

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
    let reader = Reader::new(Duration::from_secs(args.timeout), args.max_page_bytes);
    let threads = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let opts = AuditOptions {
        notices: args.notices,
    };
    let mut write_error: Option<std::io::Error> = None;
    pipeline::run(
        input::sources(&targets, args.base_url.as_ref()),
        &reader,
        &rules,
        opts,
        threads,
        |outcome| match outcome {
            Outcome::Audited(page) => {
                summary.add(&page);
                if write_error.is_none()
                    && let Err(e) = sink
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
                if !args.quiet {
                    eprintln!("affcheck: note: {page}: skipped: {reason}");
                }
            }
            Outcome::Failed(err) => {
                summary.failed += 1;
                eprintln!("affcheck: {err}");
            }
        },
    );
    if let Some(e) = write_error {
        // A closed pipe (`affcheck … | head`) is not worth an error message.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::from(2));
        }
        return Err(e).context("cannot write the report");
    }
    summary.elapsed = started.elapsed();
    if !args.quiet {
        eprintln!("affcheck: {summary}");
    }
    let failing = match args.fail_on {
        FailOn::Error => summary.at_least(Severity::Error),
        FailOn::Warning => summary.at_least(Severity::Warning),
        FailOn::Never => 0,
    };
    Ok(if summary.failed > 0 {
        ExitCode::from(2)
    } else if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
