//! `affcheck init`: write a commented starter `affcheck.toml`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use affcheck::config::{CONFIG_FILE, STARTER_TOML};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Where to write the file.
    #[arg(default_value = CONFIG_FILE, value_name = "FILE")]
    path: PathBuf,

    /// Replace the file if it exists.
    #[arg(long)]
    force: bool,
}

/// Runs `affcheck init`.
pub fn run(args: InitArgs) -> Result<ExitCode> {
    if args.path.exists() && !args.force {
        bail!(
            "{} exists already; edit it, or add --force to replace it with the starter file",
            args.path.display()
        );
    }
    let mut file = std::fs::File::create(&args.path)
        .with_context(|| format!("cannot create {}", args.path.display()))?;
    file.write_all(STARTER_TOML.as_bytes())
        .with_context(|| format!("cannot write {}", args.path.display()))?;
    eprintln!(
        "affcheck: wrote {}; every setting in it is commented out, uncomment what you need",
        args.path.display()
    );
    Ok(ExitCode::SUCCESS)
}
