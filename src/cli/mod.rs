//! The subcommands of the `affcheck` binary, one module each, and what they share: the config
//! file, the baseline, and where reports go.

pub mod check;
pub mod completions;
pub mod crawl;
pub mod explain;
pub mod init;
pub mod man;
pub mod warc;

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use affcheck::baseline::Baseline;
use affcheck::config::Config;
pub use affcheck::config::FailOn;
use affcheck::report::{
    CsvReport, Format, InventoryReport, Locations, MultiReport, Style, Summary, TableReport,
    printable,
};
use affcheck::sink::{Event, Failure, ReportSink, Sink};

/// Options shared by the commands that write reports.
#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Report format; repeatable with --output-dir (one file per format). csv is the default; a
    /// readable table is shown instead when writing to a terminal.
    #[arg(long, value_name = "FORMAT", value_parser = format_parser())]
    pub format: Vec<Format>,

    /// Write one report per --format into DIR (report.csv, report.sarif, report.junit.xml …).
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub output_dir: Option<PathBuf>,

    /// Report only findings that are not in this earlier CSV report (matched on page, rule and
    /// link, not on line or text), and fail only on those.
    #[arg(long, value_name = "OLD.csv")]
    pub baseline: Option<PathBuf>,

    /// Read settings from FILE instead of ./affcheck.toml (command-line flags win).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `--format` values: the library's formats, with their descriptions in `--help`.
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    let values = Format::ALL.map(|f| {
        PossibleValue::new(f.name())
            .aliases(f.aliases().iter().copied())
            .help(f.description())
    });
    PossibleValuesParser::new(values).map(|name| {
        name.parse::<Format>()
            .expect("clap only passes the listed names")
    })
}

/// `--fail-on` values.
fn fail_on_parser() -> impl clap::builder::TypedValueParser<Value = FailOn> {
    let values = FailOn::ALL.map(|f| PossibleValue::new(f.name()).help(f.description()));
    PossibleValuesParser::new(values).map(|name| {
        FailOn::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .expect("clap only passes the listed names")
    })
}

/// Options of the audit shared by every command that audits pages.
#[derive(Args, Debug, Clone)]
pub struct AuditArgs {
    /// Add the rules files in DIR (or the file itself) on top of the defaults; repeatable. An entry
    /// with the id of a default entry replaces it.
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,

    /// Use only the files given with --rules, not the built-in rules.
    #[arg(long, requires = "rules")]
    pub no_default_rules: bool,

    /// Lowest severity that makes the run exit with status 1 [default: error].
    #[arg(long, value_name = "LEVEL", value_parser = fail_on_parser())]
    pub fail_on: Option<FailOn>,

    /// Also report notice-level findings: missing-rel-sponsored and weak-disclosure.
    #[arg(long)]
    pub notices: bool,
}

impl AuditArgs {
    /// The rules: --rules (else the config's rules_dirs), the defaults unless turned off, then the
    /// config's inline [rules].
    pub fn ruleset(&self, config: &Config) -> Result<affcheck::rules::Ruleset> {
        let dirs = if self.rules.is_empty() {
            config.rules_dirs.clone().unwrap_or_default()
        } else {
            self.rules.clone()
        };
        let no_defaults = self.no_default_rules || config.no_default_rules.unwrap_or(false);
        config
            .load_rules(&dirs, !no_defaults)
            .context("cannot load the rules")
    }

    /// Whether notice-level findings are reported.
    pub fn notices(&self, config: &Config) -> bool {
        self.notices || config.notices.unwrap_or(false)
    }

    /// The --fail-on bar, from the flag, the config, or `error`.
    pub fn fail_on(&self, config: &Config) -> FailOn {
        self.fail_on.or(config.fail_on).unwrap_or(FailOn::Error)
    }
}

/// Loads `--config FILE`, or `./affcheck.toml` when it exists.
pub fn load_config(path: Option<&Path>) -> Result<Config> {
    let config = match path {
        Some(path) => Config::load(path)?,
        None => Config::load_default()?.unwrap_or_default(),
    };
    Ok(config)
}

/// Loads the baseline named on the command line (`flag`) or in the config.
pub fn load_baseline(flag: Option<&Path>, config: &Config) -> Result<Option<Baseline>> {
    match flag.or(config.baseline.as_deref()) {
        Some(path) => Ok(Some(Baseline::load(path)?)),
        None => Ok(None),
    }
}

/// Builds the report writers: `--output-dir` with every format, `--output FILE` with one, or one
/// format on standard output (a table on a terminal unless a format was asked for).
pub fn build_reports(
    args: &ReportArgs,
    config: &Config,
    output: Option<&Path>,
    locations: &Locations,
) -> Result<MultiReport> {
    let formats: Vec<Format> = if args.format.is_empty() {
        config.format.clone().unwrap_or_default()
    } else {
        args.format.clone()
    };
    let output_dir = args.output_dir.as_ref().or(if output.is_none() {
        config.output_dir.as_ref()
    } else {
        None
    });
    let output = output.or(config.output.as_deref());
    let mut multi = MultiReport::new();
    if let Some(dir) = output_dir {
        let formats = if formats.is_empty() {
            vec![Format::Csv]
        } else {
            formats
        };
        multi.add_output_dir(dir, &formats, locations)?;
        return Ok(multi);
    }
    if formats.len() > 1 {
        bail!(
            "{} formats asked for but one output: add --output-dir DIR to write one file per format",
            formats.len()
        );
    }
    match (output, formats.first()) {
        (Some(path), format) => {
            multi.add_file(format.copied().unwrap_or(Format::Csv), path, locations)?;
        }
        (None, None) if std::io::stdout().is_terminal() => {
            multi.push(
                "standard output",
                TableReport::new(std::io::stdout(), Style::detect(true)),
            );
        }
        (None, format) => {
            let format = format.copied().unwrap_or(Format::Csv);
            if format == Format::Csv {
                multi.push(
                    "standard output",
                    CsvReport::new(Box::new(BufWriter::new(std::io::stdout()))
                        as Box<dyn std::io::Write + Send>)?,
                );
            } else {
                multi.push(
                    "standard output",
                    format.writer(Box::new(BufWriter::new(std::io::stdout())), locations)?,
                );
            }
        }
    }
    Ok(multi)
}

/// Where SARIF, GitHub and JUnit reports say a page's file is: paths relative to the repository
/// root (`$GITHUB_WORKSPACE`, else the current folder); with `--base-url`, page URLs map back to the
/// files of each folder target.
pub fn locations(base_url: Option<&url::Url>, folders: &[PathBuf]) -> Locations {
    let root = std::env::var_os("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok());
    let mut locations = Locations::new(root);
    if let Some(base) = base_url {
        for dir in folders {
            locations = locations.with_base(base, dir.clone());
        }
    }
    locations
}

/// Opens the `--inventory` file.
pub fn inventory_file(path: &Path) -> Result<InventoryReport<Box<dyn Write + Send>>> {
    let file = File::create(path)
        .with_context(|| format!("cannot create the inventory file {}", path.display()))?;
    Ok(InventoryReport::new(
        Box::new(BufWriter::new(file)) as Box<dyn Write + Send>
    )?)
}

/// The terminal's view of the event stream: notes about skipped pages and failures on standard
/// error (failures always, notes unless `--quiet`), then everything on to the report chain.
pub struct Console {
    sink: ReportSink,
    quiet: bool,
    skip_notes: bool,
}

impl Console {
    /// Shows events on standard error and hands them to `sink`.
    pub fn new(sink: ReportSink, quiet: bool) -> Self {
        Console {
            sink,
            quiet,
            skip_notes: true,
        }
    }

    /// No note per skipped document (an archive holds thousands of non-HTML records; the summary
    /// counts them).
    pub fn without_skip_notes(mut self) -> Self {
        self.skip_notes = false;
        self
    }

    /// The report chain, to finish it.
    pub fn into_inner(self) -> ReportSink {
        self.sink
    }
}

impl Sink for Console {
    fn event(&mut self, event: Event) -> std::io::Result<()> {
        match &event {
            Event::NotAudited(n) if n.skipped && self.skip_notes && !self.quiet => {
                eprintln!(
                    "affcheck: note: {}: skipped: {}",
                    printable(&n.page),
                    printable(&n.reason)
                );
            }
            Event::Failed(f) => eprintln!("affcheck: {}", failure_line(f)),
            Event::Note(note) if !self.quiet => eprintln!("affcheck: {}", printable(note)),
            _ => {}
        }
        self.sink.event(event)
    }
}

/// A failure as one line: its message when that names the target already, else `target: message`.
pub fn failure_line(f: &Failure) -> String {
    let line = if f.message.starts_with(&f.target) {
        f.message.clone()
    } else {
        format!("{}: {}", f.target, f.message)
    };
    printable(&line).into_owned()
}

/// Writes a generated text (`what`: "the completion script" …) to standard output. A closed pipe
/// (`affcheck … | head`) ends the run with status 2 and no message, as for reports.
pub fn write_stdout(text: &[u8], what: &str) -> Result<std::process::ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(std::process::ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(std::process::ExitCode::from(2)),
        Err(e) => Err(e).with_context(|| format!("cannot write {what} to standard output")),
    }
}

/// Worker threads when neither `-j` nor the config says: one per CPU.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The exit status for a finished run: 2 when something could not be read, 1 when findings reach
/// the `--fail-on` bar, else 0.
pub fn exit_code(failed: bool, summary: &Summary, fail_on: FailOn) -> std::process::ExitCode {
    let failing = match fail_on.threshold() {
        Some(level) => summary.at_least(level),
        None => 0,
    };
    if failed {
        std::process::ExitCode::from(2)
    } else if failing > 0 {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

/// The audit options of a run: the config's, with `--notices`; a `[site] disclosure` that is not a
/// disclosure stops the run.
pub fn audit_options(
    config: &Config,
    rules: &affcheck::rules::Ruleset,
    notices: bool,
) -> anyhow::Result<affcheck::findings::AuditOptions> {
    Ok(config.audit_options(rules, notices)?)
}
