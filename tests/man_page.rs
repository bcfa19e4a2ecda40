//! `affcheck man`, seen from the command line: the single page on standard output is roff with
//! every subcommand and its options, `--dir` writes one page per command, and groff (when
//! installed) reads the pages without a warning.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Run, TempDir, run};

/// Every subcommand, as its section in the single page names it.
const SUBCOMMANDS: &[&str] = &["check", "crawl", "warc", "init", "completions", "man"];

fn man(args: &[&str]) -> Run {
    run(Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .arg("man")
        .args(args))
}

fn man_dir(dir: &Path) -> Run {
    run(Command::new(env!("CARGO_BIN_EXE_affcheck"))
        .arg("man")
        .arg("--dir")
        .arg(dir))
}

/// The page as groff lays it out for a UTF-8 terminal, as plain text (`-P-cbou`: no bold,
/// underline or colour codes), with its warnings (`-ww`); `None` without groff.
fn groff(page: &Path) -> Option<(String, String)> {
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-cbou", "-ww"])
        .arg(page)
        .output()
        .ok()?;
    assert!(out.status.success(), "groff failed on {}", page.display());
    Some((
        String::from_utf8(out.stdout).expect("groff -Tutf8 writes UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// The subcommands in the "Commands:" list of `affcheck --help`, without clap's `help`.
fn listed_subcommands() -> Vec<String> {
    let help = run(Command::new(env!("CARGO_BIN_EXE_affcheck")).arg("--help"));
    assert_eq!(help.code, 0);
    help.stdout
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        // A command's line starts with two spaces and its name; wrapped help is indented further.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_single_page_is_roff_with_every_subcommand_and_its_options() {
    let out = man(&[]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let page = &out.stdout;
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.TH affcheck 1 "),
        "no roff header:\n{}",
        &page[..page.len().min(300)]
    );
    assert_eq!(page.matches(".TH ").count(), 1, "one page, one title");
    assert!(page.is_ascii(), "non-ASCII characters left unescaped");
    for sub in SUBCOMMANDS {
        let heading = format!(".SH \"AFFCHECK {}\"\n", sub.to_uppercase());
        assert!(page.contains(&heading), "no section {heading:?}");
    }
    // check's section: its synopsis, options with their help, fixed values and examples.
    let check = &page[page.find(".SH \"AFFCHECK CHECK\"").unwrap()..];
    let check = &check[..check.find(".SH \"AFFCHECK CRAWL\"").unwrap()];
    for expected in [
        ".SS SYNOPSIS",
        "\\fBaffcheck check\\fR",
        ".SS OPTIONS",
        "\\fB\\-\\-base\\-url\\fR",
        "Public URL of the folder targets",
        "\\fB\\-\\-format\\fR",
        "sarif",
        "\\fB\\-\\-fail\\-on\\fR",
        ".SS EXAMPLES",
        "affcheck check https://example.com/best\\-tents/",
    ] {
        assert!(check.contains(expected), "check section lacks {expected:?}");
    }
}

#[test]
fn groff_reads_the_single_page_without_warnings() {
    let tmp = TempDir::new("man");
    let page = tmp.write("affcheck.1", man(&[]).stdout);
    let Some((text, warnings)) = groff(&page) else {
        eprintln!("groff is not installed: layout check skipped");
        return;
    };
    assert!(warnings.is_empty(), "groff warnings:\n{warnings}");
    for expected in [
        "AFFCHECK CHECK",
        "--base-url <URL>",
        "--fail-on <LEVEL>",
        "EXAMPLES",
    ] {
        assert!(text.contains(expected), "laid-out page lacks {expected:?}");
    }
    // The "…" of the help texts survives as a character, not as a mangled byte sequence.
    assert!(text.contains("report.junit.xml …)"), "ellipsis lost");
}

#[test]
fn dir_writes_one_page_per_command() {
    let tmp = TempDir::new("man-dir");
    let dir = tmp.path().join("share/man/man1");
    let out = man_dir(&dir);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty(), "pages went to stdout too");
    // One page per subcommand that `affcheck --help` lists (so a new subcommand needs no edit
    // here), and the top-level page.
    let commands = listed_subcommands();
    for sub in SUBCOMMANDS {
        assert!(
            commands.iter().any(|c| c == sub),
            "--help does not list {sub}"
        );
    }
    assert!(
        out.stderr
            .contains(&format!("wrote {} man pages", commands.len() + 1)),
        "stderr: {}",
        out.stderr
    );

    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<String> = commands
        .iter()
        .map(|s| format!("affcheck-{s}.1"))
        .chain(["affcheck.1".to_owned()])
        .collect();
    expected.sort();
    assert_eq!(names, expected);

    let top = std::fs::read_to_string(dir.join("affcheck.1")).unwrap();
    assert!(top.contains(".TH affcheck 1 "));
    assert!(
        top.contains("affcheck\\-check(1)"),
        "no reference to the check page"
    );

    let check = std::fs::read_to_string(dir.join("affcheck-check.1")).unwrap();
    let title = format!(
        ".TH affcheck-check 1  \"affcheck {}\"",
        env!("CARGO_PKG_VERSION")
    );
    assert!(check.contains(&title), "no title {title:?}");
    assert!(check.contains(".SH OPTIONS"));
    assert!(check.contains("\\fB\\-\\-base\\-url\\fR"));
    assert!(check.contains(".SH EXAMPLES"));
    assert!(check.is_ascii());
    if let Some((_, warnings)) = groff(&dir.join("affcheck-check.1")) {
        assert!(warnings.is_empty(), "groff warnings:\n{warnings}");
    }
}

#[test]
fn dir_that_is_a_file_is_a_clear_error() {
    let tmp = TempDir::new("man-file");
    let file = tmp.write("not-a-dir", "x");
    let out = man_dir(&file);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with("affcheck: error: cannot create the man page folder"),
        "stderr: {}",
        out.stderr
    );
    assert!(out.stderr.contains("not-a-dir"), "stderr: {}", out.stderr);
}
