//! `affcheck completions SHELL`, seen from the command line: every shell gets a script that knows
//! the subcommands and their options, an unknown shell is a clear error, and bash (when installed)
//! both accepts the script and completes with it.

mod common;

use std::process::Command;

use common::{Run, TempDir, run};

/// The subcommands a completion script must offer after `affcheck `.
const SUBCOMMANDS: &[&str] = &["check", "crawl", "warc", "init", "completions", "man"];

const SHELLS: &[&str] = &["bash", "zsh", "fish", "elvish", "powershell"];

fn completions(shell: &str) -> Run {
    run(Command::new(env!("CARGO_BIN_EXE_affcheck")).args(["completions", shell]))
}

/// Whether `program --version` runs here.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

#[test]
fn bash_script_names_every_subcommand_and_the_check_options() {
    let out = completions("bash");
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(out.stderr.is_empty(), "unexpected stderr: {}", out.stderr);
    let script = &out.stdout;
    assert!(
        script.contains("complete -F _affcheck"),
        "not a bash completion script:\n{script}"
    );
    for sub in SUBCOMMANDS {
        assert!(
            script.contains(&format!("affcheck,{sub})")),
            "bash script does not complete the subcommand {sub}"
        );
    }
    for option in ["--base-url", "--output-dir", "--fail-on", "--inventory"] {
        assert!(script.contains(option), "bash script lacks {option}");
    }
    // Fixed values come from the same definitions as --help.
    assert!(script.contains("csv json jsonl sarif junit github markdown"));
}

#[test]
fn every_supported_shell_gets_a_script_with_the_subcommands() {
    for shell in SHELLS {
        let out = completions(shell);
        assert_eq!(out.code, 0, "{shell}: stderr: {}", out.stderr);
        for word in SUBCOMMANDS.iter().chain(&["base-url"]) {
            assert!(
                out.stdout.contains(word),
                "the {shell} script does not mention {word}"
            );
        }
    }
}

#[test]
fn an_unknown_shell_is_an_error_that_lists_the_supported_ones() {
    let out = completions("tcsh");
    assert_eq!(out.code, 2, "stdout: {}", out.stdout);
    assert!(
        out.stdout.is_empty(),
        "a script was printed: {}",
        out.stdout
    );
    assert!(
        out.stderr.contains("invalid value 'tcsh'"),
        "stderr: {}",
        out.stderr
    );
    for shell in SHELLS {
        assert!(
            out.stderr.contains(shell),
            "the error does not offer {shell}: {}",
            out.stderr
        );
    }

    let missing = run(Command::new(env!("CARGO_BIN_EXE_affcheck")).arg("completions"));
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("<SHELL>"),
        "stderr: {}",
        missing.stderr
    );
}

#[test]
fn bash_accepts_the_script_and_completes_with_it() {
    if !installed("bash") {
        eprintln!("bash is not installed: syntax and completion check skipped");
        return;
    }
    let tmp = TempDir::new("completions");
    let script = tmp.write("affcheck.bash", completions("bash").stdout);

    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "bash -n rejects the script: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    // What bash offers at `affcheck <TAB>`, `affcheck check --base-<TAB>` and
    // `affcheck check --format s<TAB>`, through the function the script registers.
    let complete = |words: &str| -> Vec<String> {
        let probe = format!(
            "source \"$1\"\n\
             COMP_WORDS=({words})\n\
             COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n\
             COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
             COMP_POINT=${{#COMP_LINE}}\n\
             _affcheck affcheck \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"\n"
        );
        let out = Command::new("bash")
            .args(["-c", &probe, "probe"])
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "completing `{words}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };

    let subcommands = complete("affcheck ''");
    for sub in SUBCOMMANDS {
        assert!(
            subcommands.iter().any(|w| w == sub),
            "`affcheck <TAB>` does not offer {sub}: {subcommands:?}"
        );
    }
    assert_eq!(complete("affcheck check --base-"), ["--base-url"]);
    assert_eq!(complete("affcheck check --format s"), ["sarif"]);
}

#[test]
fn zsh_accepts_the_script() {
    if !installed("zsh") {
        eprintln!("zsh is not installed: syntax check skipped");
        return;
    }
    let tmp = TempDir::new("completions-zsh");
    let script = tmp.write("_affcheck", completions("zsh").stdout);
    let syntax = Command::new("zsh").arg("-n").arg(&script).output().unwrap();
    assert!(
        syntax.status.success(),
        "zsh -n rejects the script: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
}

#[test]
fn fish_accepts_the_script_and_completes_with_it() {
    if !installed("fish") {
        eprintln!("fish is not installed: syntax and completion check skipped");
        return;
    }
    let tmp = TempDir::new("completions-fish");
    let script = tmp.write("affcheck.fish", completions("fish").stdout);
    let syntax = Command::new("fish")
        .arg("--no-execute")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "fish --no-execute rejects the script: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    // `complete -C LINE` prints what fish offers for LINE: one `word<TAB>description` a line.
    let complete = |line: &str| -> Vec<String> {
        let out = Command::new("fish")
            .arg("--no-config")
            .arg("-c")
            .arg(format!(
                "source '{}'; complete -C '{line}'",
                script.display()
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(complete("affcheck check --base-"), ["--base-url"]);
    assert_eq!(complete("affcheck check --format s"), ["sarif"]);
    let subcommands = complete("affcheck ");
    for sub in SUBCOMMANDS {
        assert!(
            subcommands.iter().any(|w| w == sub),
            "fish does not offer {sub}: {subcommands:?}"
        );
    }
}
