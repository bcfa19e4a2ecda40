//! `affcheck explain`: one page, every decision behind its verdicts.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use url::Url;

use affcheck::Auditor;
use affcheck::fetch::FetchConfig;
use affcheck::findings::{DisclosureKind, Explanation, LinkStatus, Severity};
use affcheck::input::{self, Reader, Source, Target};
use affcheck::report::printable;

use super::AuditArgs;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The page: an http(s) URL, an HTML file, or - for standard input.
    #[arg(value_name = "TARGET")]
    target: String,

    /// Public URL of the page when TARGET is a file or standard input: its relative links resolve
    /// against it, as on the live site.
    #[arg(long, value_name = "URL")]
    base_url: Option<Url>,

    /// Output: readable text, or one JSON document for tools.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,

    /// Colours in the text output: auto (on a terminal, unless NO_COLOR is set or TERM=dumb),
    /// always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Read settings (site names, site-wide disclosure, rules) from this affcheck.toml instead of
    /// looking for one in the current folder.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(flatten)]
    audit: AuditArgs,

    /// Seconds to wait for a URL [default: 20].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,

    /// Largest page read, in bytes [default: 5242880].
    #[arg(long, value_name = "BYTES")]
    max_page_bytes: Option<u64>,

    /// Follow redirects and cloaked links to internal addresses too (loopback, private and
    /// link-local networks).
    #[arg(long)]
    allow_private: bool,
}

/// `--format` of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    /// Readable text.
    Text,
    /// One JSON document.
    Json,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set or TERM is dumb.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to a stream that `is_terminal`.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }
}

/// Runs `affcheck explain`.
pub fn run(args: ExplainArgs) -> Result<ExitCode> {
    let config = super::load_config(args.config.as_deref())?;
    let rules = args.audit.ruleset(&config)?;
    let notices = args.audit.notices(&config);
    let fail_on = args.audit.fail_on(&config);
    let base_url = args.base_url.clone().or_else(|| config.base_url.clone());
    let target = Target::parse(&args.target).map_err(anyhow::Error::new)?;
    let source = match &target {
        Target::Path(p) if p.is_dir() => bail!(
            "{} is a folder; explain looks at one page: name one HTML file in it (use `affcheck check {}` for the whole folder)",
            p.display(),
            p.display()
        ),
        Target::Url(url) => Source::Url(url.clone()),
        Target::Stdin => Source::Stdin(base_url.clone()),
        Target::Path(path) => {
            let base = match &base_url {
                Some(b) => b.clone(),
                None => Url::from_file_path(std::path::absolute(path).unwrap_or(path.clone()))
                    .map_err(|()| anyhow::anyhow!("{}: not a usable file path", path.display()))?,
            };
            Source::File {
                path: path.clone(),
                display: base_url
                    .as_ref()
                    .map_or_else(|| path.display().to_string(), Url::to_string),
                base,
            }
        }
    };
    let mut fetch = FetchConfig::new(
        Duration::from_secs(args.timeout.or(config.timeout).unwrap_or(20).max(1)),
        args.max_page_bytes
            .or(config.max_page_bytes)
            .unwrap_or(input::DEFAULT_MAX_PAGE_BYTES),
    );
    fetch.allow_private = args.allow_private;
    if let Source::Url(url) = &source {
        fetch.trusted_hosts = url.host_str().map(str::to_string).into_iter().collect();
    }
    let reader = Reader::with_fetch(fetch);
    let options = super::audit_options(&config, &rules, notices)?;
    let auditor = Auditor::new(rules, options);
    let explained = match &source {
        Source::Url(url) => reader.explain_url(url, &auditor)?,
        _ => {
            let doc = reader.read(&source)?;
            auditor
                .explain(&doc)
                .map_err(|skip| (doc.display.clone(), skip))
        }
    };
    let explanation = match explained {
        Ok(e) => e,
        Err((page, skip)) => bail!("{page}: not audited: {skip}"),
    };
    let stdout = std::io::stdout();
    let color = args.color.enabled(stdout.is_terminal());
    let mut out = stdout.lock();
    let written = match args.format {
        ExplainFormat::Json => serde_json::to_writer_pretty(&mut out, &explanation)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        ExplainFormat::Text => write_text(&mut out, &explanation, color),
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e).context("cannot write the explanation"),
    }
    let failing = fail_on.threshold().map_or(0, |level| {
        explanation
            .findings
            .iter()
            .filter(|f| f.severity >= level)
            .count()
    });
    Ok(if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// ANSI styling when enabled.
struct Paint(bool);

impl Paint {
    fn on(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.on("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.on("2", t)
    }
    fn red(&self, t: &str) -> String {
        self.on("31", t)
    }
    fn green(&self, t: &str) -> String {
        self.on("32", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.on("33", t)
    }
}

fn at(line: u32) -> String {
    if line == 0 {
        "site-wide".to_string()
    } else {
        format!("line {line}")
    }
}

/// The readable explanation: page facts, disclosures, near misses, then each link.
fn write_text(out: &mut impl Write, e: &Explanation, color: bool) -> std::io::Result<()> {
    let p = Paint(color);
    // Everything below comes from the page: no control character reaches the terminal.
    let s = |t: &str| printable(t).into_owned();
    writeln!(out, "{} {}", p.bold("Page"), s(&e.page_url))?;
    if let Some(lang) = &e.lang {
        writeln!(out, "  language: {}", s(lang))?;
    }
    if !e.site_names.is_empty() {
        let names: Vec<String> = e.site_names.iter().map(|n| s(n)).collect();
        writeln!(out, "  site names (count as \"we\"): {}", names.join(", "))?;
    }
    for script in &e.scripts {
        writeln!(
            out,
            "  monetization script: {} on line {} ({})",
            s(&script.name),
            script.line,
            s(&script.url)
        )?;
    }
    for st in &e.required_statements {
        let state = if st.made {
            p.green("made")
        } else {
            p.red("missing")
        };
        writeln!(
            out,
            "  required statement of {} ({}): {state}",
            s(&st.program),
            st.id
        )?;
    }

    writeln!(out)?;
    writeln!(out, "{} ({})", p.bold("Disclosures"), e.disclosures.len())?;
    if e.disclosures.is_empty() {
        writeln!(out, "  none found")?;
    }
    for d in &e.disclosures {
        let kind = match d.kind {
            DisclosureKind::Visible => p.green("visible"),
            DisclosureKind::Hidden => p.red(&format!(
                "hidden by {}",
                d.hidden_by.map_or("a hiding rule", |h| h.describe())
            )),
            DisclosureKind::LinkOnly => p.yellow("link only"),
        };
        let marker = d
            .marker
            .map(|m| format!(", legend for links marked {m}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:<10} {kind}, {}{marker}  {}",
            at(d.line),
            strength_name(d.strength),
            p.dim(&d.rule)
        )?;
        writeln!(out, "             \"{}\"", s(&d.excerpt))?;
    }
    if !e.near_misses.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{} ({}): sentences with the words of a disclosure that do not count",
            p.bold("Near misses"),
            e.near_misses.len()
        )?;
        for m in &e.near_misses {
            writeln!(
                out,
                "  {:<10} {}  {}",
                at(m.line),
                p.yellow(&m.why),
                p.dim(&m.rule)
            )?;
            writeln!(out, "             \"{}\"", s(&m.excerpt))?;
        }
    }

    writeln!(out)?;
    writeln!(out, "{} ({})", p.bold("Affiliate links"), e.links.len())?;
    if e.links.is_empty() {
        writeln!(out, "  none: no link on the page matched an affiliate rule")?;
    }
    for (i, l) in e.links.iter().enumerate() {
        writeln!(
            out,
            "  {:>3}. {:<10} \"{}\" {}",
            i + 1,
            at(l.line),
            s(&l.text),
            s(&l.url)
        )?;
        let via = l
            .destination
            .as_ref()
            .map(|d| format!(", to {}", s(d)))
            .unwrap_or_default();
        let sponsored = if l.rel_sponsored {
            ", rel=sponsored"
        } else {
            ""
        };
        writeln!(
            out,
            "       {} {}{via}{sponsored}",
            s(&l.network),
            p.dim(&format!("(rule {})", s(&l.network_rule)))
        )?;
        match l.status {
            LinkStatus::Compliant => {
                let by = l.deciding.as_ref().map_or_else(String::new, |d| {
                    format!(
                        " by {} \"{}\" ({}, {})",
                        at(d.line),
                        s(&d.excerpt),
                        d.strength.map_or("", strength_name),
                        d.rule
                    )
                });
                writeln!(out, "       {}{by}", p.green("compliant: disclosed"))?;
            }
            LinkStatus::Violation(rule) => {
                writeln!(
                    out,
                    "       {}",
                    p.red(&format!("violation: {}", rule.id()))
                )?;
                if l.near.is_empty() {
                    writeln!(
                        out,
                        "         nothing on the page comes close to a disclosure"
                    )?;
                }
                for n in &l.near {
                    writeln!(out, "         - {}", s(n))?;
                }
            }
        }
    }

    writeln!(out)?;
    let count = |sev: Severity| e.findings.iter().filter(|f| f.severity == sev).count();
    writeln!(
        out,
        "{} ({}: {} errors, {} warnings, {} notices)",
        p.bold("Findings"),
        e.findings.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Notice)
    )?;
    for f in &e.findings {
        let rule = match f.severity {
            Severity::Error => p.red(f.rule.id()),
            Severity::Warning => p.yellow(f.rule.id()),
            _ => f.rule.id().to_string(),
        };
        writeln!(out, "  {:<10} {rule}: {}", at(f.line), s(&f.message))?;
    }
    Ok(())
}

fn strength_name(s: affcheck::rules::Strength) -> &'static str {
    match s {
        affcheck::rules::Strength::Explicit => "explicit (says the site earns)",
        affcheck::rules::Strength::Label => "label only",
    }
}
