//! `affcheck completions SHELL`: print a shell completion script, generated from the clap
//! definitions of every subcommand so that it completes exactly what `--help` documents.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use clap_complete::Shell;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    shell: Shell,
}

/// Runs `affcheck completions`: writes the script for `args.shell` that completes `cmd` (the
/// whole `affcheck` command line) to standard output.
pub fn run(args: CompletionsArgs, mut cmd: clap::Command) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "affcheck", &mut script);
    super::write_stdout(&script, "the completion script")
}
