//! `affcheck man`: the manual, generated from the clap definitions (the same text as `--help`),
//! either as one page with every subcommand on standard output or as one page per subcommand in a
//! folder (`affcheck.1`, `affcheck-check.1` …), the way git and cargo install theirs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write one page per command into DIR (affcheck.1, affcheck-check.1, affcheck-crawl.1 …),
    /// creating DIR if needed, instead of printing the single page.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Runs `affcheck man` for `cmd`, the whole `affcheck` command line.
pub fn run(args: ManArgs, cmd: clap::Command) -> Result<ExitCode> {
    let mut cmd = cmd.disable_help_subcommand(true);
    // Sets the subcommands' full names ("affcheck check") that the synopses show.
    cmd.build();
    match args.dir {
        Some(dir) => {
            let written = write_pages(&cmd, &dir)?;
            eprintln!(
                "affcheck: wrote {} man pages to {}: {}",
                written.len(),
                dir.display(),
                written.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        None => super::write_stdout(ascii(&single_page(&cmd)).as_bytes(), "the man page"),
    }
}

/// The page of `affcheck(1)` with every subcommand in it: the top-level sections, then one section
/// per subcommand (`AFFCHECK CHECK` …) with its synopsis, description, options and examples.
fn single_page(cmd: &clap::Command) -> String {
    let man = Man::new(cmd.clone());
    let mut page = render(|w| man.render_title(w));
    page += &section(|w| man.render_name_section(w));
    page += &section(|w| man.render_synopsis_section(w));
    page += &section(|w| man.render_description_section(w));
    page += &section(|w| man.render_options_section(w));

    let subcommands: Vec<&clap::Command> =
        cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    let mut list = Roff::new();
    list.control("SH", ["COMMANDS"]);
    for sub in &subcommands {
        list.control("TP", []);
        list.text([bold(full_name(sub))]);
        if let Some(about) = sub.get_about() {
            list.text([roman(format!(
                "{about}. See {} below.",
                full_name(sub).to_uppercase()
            ))]);
        }
    }
    page += &list.to_roff();

    for sub in subcommands {
        let man = Man::new(sub.clone());
        let mut heading = Roff::new();
        heading.control("SH", [full_name(sub).to_uppercase().as_str()]);
        page += &heading.to_roff();
        let mut body = section(|w| man.render_synopsis_section(w));
        body += &section(|w| man.render_description_section(w));
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            body += &section(|w| man.render_options_section(w));
        }
        body += &examples(sub).to_roff();
        page += &demote_sections(&body);
    }
    page += &section(|w| man.render_version_section(w));
    page
}

/// Writes `affcheck.1` and one page per visible subcommand into `dir`; returns the file names.
fn write_pages(cmd: &clap::Command, dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the man page folder {}", dir.display()))?;
    let mut written = Vec::new();
    // Every page's footer names the program and its version, as the top-level page's does.
    let source = format!("affcheck {}", cmd.get_version().unwrap_or_default());
    let commands = std::iter::once(cmd).chain(cmd.get_subcommands().filter(|s| !s.is_hide_set()));
    for command in commands {
        let man = Man::new(command.clone()).source(&source);
        let mut page = render(|w| man.render_title(w));
        page += &section(|w| man.render_name_section(w));
        page += &section(|w| man.render_synopsis_section(w));
        page += &section(|w| man.render_description_section(w));
        if command.get_arguments().any(|a| !a.is_hide_set()) {
            page += &section(|w| man.render_options_section(w));
        }
        if command.get_subcommands().any(|s| !s.is_hide_set()) {
            page += &section(|w| man.render_subcommands_section(w));
        }
        page += &examples(command).to_roff();
        if command.get_version().is_some() {
            page += &section(|w| man.render_version_section(w));
        }

        let name = man.get_filename();
        let path = dir.join(&name);
        std::fs::write(&path, ascii(&page))
            .with_context(|| format!("cannot write the man page {}", path.display()))?;
        written.push(name);
    }
    Ok(written)
}

/// "affcheck check" for the `check` subcommand (its bin name once the command line is built).
fn full_name(cmd: &clap::Command) -> String {
    cmd.get_bin_name().unwrap_or(cmd.get_name()).to_owned()
}

/// The `after_help` text as a section: a first line such as "Examples:" becomes the heading
/// (EXAMPLES), the other lines are kept one per line (no filling), as they are in `--help`.
fn examples(cmd: &clap::Command) -> Roff {
    let mut roff = Roff::new();
    let Some(text) = cmd.get_after_long_help().or(cmd.get_after_help()) else {
        return roff;
    };
    let text = text.to_string();
    let mut lines = text.lines().peekable();
    let heading = match lines.peek().and_then(|l| l.trim().strip_suffix(':')) {
        Some(title) => {
            lines.next();
            title.to_uppercase()
        }
        None => "NOTES".to_owned(),
    };
    roff.control("SH", [heading.as_str()]);
    roff.control("RS", []).control("nf", []);
    for line in lines {
        roff.text([roman(line.trim())]);
    }
    roff.control("fi", []).control("RE", []);
    roff
}

/// The page in ASCII: every other character (the help texts' "…", "—") as a roff `\[uXXXX]`
/// escape, which groff and mandoc read whatever the locale; a troff that is not told the input's
/// encoding (no preconv) misreads raw UTF-8.
fn ascii(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    for c in roff.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out += &format!("\\[u{:04X}]", u32::from(c));
        }
    }
    out
}

/// What `render` writes, as text.
fn render(render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    render(&mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("clap_mangen writes UTF-8 from UTF-8 help texts")
}

/// The definitions roff puts before each rendered piece (an apostrophe string); the page keeps the
/// first copy only.
const ROFF_PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// A section rendered on its own, without the preamble that the page has already.
fn section(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> String {
    let text = render(write);
    match text.strip_prefix(ROFF_PREAMBLE) {
        Some(rest) => rest.to_owned(),
        None => text,
    }
}

/// Turns the sections (`.SH`) of a subcommand's page into subsections (`.SS`) of its section in
/// the single page. Text lines cannot start with `.SH`: roff escapes a leading period.
fn demote_sections(roff: &str) -> String {
    roff.lines()
        .map(|line| match line.strip_prefix(".SH ") {
            Some(title) => format!(".SS {title}\n"),
            None => format!("{line}\n"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_lose_the_repeated_preamble_and_become_subsections() {
        let cmd = clap::Command::new("demo").about("A demo.").arg(
            clap::Arg::new("flag")
                .long("flag")
                .help("It's a flag")
                .action(clap::ArgAction::SetTrue),
        );
        let man = Man::new(cmd);
        let options = section(|w| man.render_options_section(w));
        assert!(options.starts_with(".SH OPTIONS\n"), "{options}");
        assert!(
            options.contains("\\*(Aq"),
            "apostrophes still use Aq: {options}"
        );
        let demoted = demote_sections(&options);
        assert!(demoted.starts_with(".SS OPTIONS\n"), "{demoted}");
        assert!(!demoted.contains(".SH"));
    }

    #[test]
    fn non_ascii_characters_become_unicode_escapes() {
        assert_eq!(
            ascii("a … b — c 😀"),
            "a \\[u2026] b \\[u2014] c \\[u1F600]"
        );
        assert_eq!(ascii(".TH x 1\n"), ".TH x 1\n");
    }

    #[test]
    fn after_help_heading_becomes_a_section_with_unfilled_lines() {
        let cmd = clap::Command::new("demo")
            .after_help("Examples:\n  demo --one\n  demo .two   # a comment");
        let roff = examples(&cmd).to_roff();
        assert_eq!(
            roff,
            ".SH EXAMPLES\n.RS\n.nf\ndemo \\-\\-one\ndemo .two   # a comment\n.fi\n.RE\n"
        );
        assert_eq!(examples(&clap::Command::new("bare")).to_roff(), "");
    }
}
