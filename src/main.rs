//! The `affcheck` command line: a thin layer over the library.

mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

// Parsing allocates many small nodes and strings per page. mimalloc cut the crawl benchmark from
// 5.4 s to 4.4 s (user time 9.1 s to 7.6 s). It is built without transparent huge pages
// (`no_thp` in Cargo.toml): with them every touched arena chunk was a resident 2 MiB page, 17 MB
// more at start and twice the peak of a folder check.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Makes mimalloc hand freed memory back to the system at once. By default it waits a second, so
/// a page's parse tree, freed before its findings are built, stayed resident beside them: a dense
/// 5 MB page peaked at 81 MB instead of 62 MB, at no measurable cost in time.
fn release_freed_memory_at_once() {
    // `mi_option_purge_delay` of mimalloc v3 (the version libmimalloc-sys builds); its bindings
    // name only the v2 options. Changed only while it holds v3's default of 1,000 ms, so that a
    // renumbered option or a `MIMALLOC_PURGE_DELAY` set by the user is left alone.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: reading and setting an option are plain calls into mimalloc with an option index;
    // mimalloc ignores indices it does not know.
    let user_set = ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if user_set {
        return;
    }
    unsafe {
        if libmimalloc_sys::mi_option_get(PURGE_DELAY) == 1000 {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
        }
    }
}

/// Audit publisher pages for affiliate-disclosure compliance.
///
/// affcheck finds outbound affiliate links (Amazon Associates, CJ, Rakuten, Awin, ShareASale, Impact,
/// Skimlinks, cloaked /go/ links, rel="sponsored" …) and checks that a visible disclosure comes before
/// each of them in reading order, as the FTC Endorsement Guides, the UK CAP code and EU rules ask.
#[derive(Parser, Debug)]
#[command(name = "affcheck", version, about, long_about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Audit HTML files, folders, URLs or standard input and report violations.
    ///
    /// Exit status: 0 when no finding reaches --fail-on, 1 when some do, 2 when a target could not
    /// be read or the run could not start (the other targets are still audited).
    #[command(after_help = "Examples:\n  \
        affcheck check public/ --base-url https://example.com/ --output report.csv\n  \
        affcheck check https://example.com/best-tents/\n  \
        curl -s https://example.com/ | affcheck check - --base-url https://example.com/")]
    Check(cli::check::CheckArgs),

    /// Crawl a whole site politely and audit every HTML page on it.
    ///
    /// The crawl stays on the start URLs' hosts (and their www. twins), reads robots.txt and the
    /// sitemaps it names, and writes the same CSV report as `check`, row by row as pages are
    /// audited. Same-site links that look like cloaked affiliate links (/go/, /recommends/ …) are
    /// requested without following the redirect, and classified by where they lead.
    ///
    /// Exit status: 0 when no finding reaches --fail-on, 1 when some do, 2 when the crawl could not
    /// run or not a single page could be audited.
    #[command(after_help = "Examples:\n  \
        affcheck crawl https://example.com/ --output report.csv --errors errors.csv\n  \
        affcheck crawl https://example.com/ --state crawl.state --output report.csv   # resumable\n  \
        affcheck crawl --sitemap https://example.com/sitemap.xml --max-depth 0 --output report.csv")]
    Crawl(cli::crawl::CrawlArgs),

    /// Audit the HTML pages archived in WARC files (plain or .warc.gz, as Common Crawl and wget write).
    ///
    /// Every `response` record with HTTP status 200 and an HTML payload is audited as the page at its
    /// WARC-Target-URI, with the same audit core and CSV report as `check`. Other records (request,
    /// revisit, metadata, warcinfo, non-200, non-HTML, too large) are counted in the summary. A
    /// damaged record is reported with its file and byte offset and skipped; the rest of the file is
    /// still read. Files are read as streams: memory does not grow with their size.
    ///
    /// Exit status: 0 when no finding reaches --fail-on, 1 when some do, 2 when a file or record
    /// could not be read (the rest is still audited) or the run could not start.
    #[command(after_help = "Examples:\n  \
        affcheck warc CC-MAIN-20240101000000-00000.warc.gz --output report.csv\n  \
        affcheck crawl https://example.com/ --warc site.warc.gz --output r.csv && affcheck warc site.warc.gz\n  \
        curl -s https://data.commoncrawl.org/crawl-data/… | affcheck warc - --output report.csv")]
    Warc(cli::warc::WarcArgs),

    /// Explain every decision on one page: what editors run after CI fails.
    ///
    /// For each affiliate link in reading order: its line, text, URL, the network and the rule that
    /// classified it, the verdict, and the disclosure that decided it (text, line, strength, the
    /// wording form that matched) or, for a violation, each near miss that did not count and why
    /// (hidden and by what, after the link, only a link, negated, a question, someone else earning).
    /// Also the page's disclosures, monetization scripts, required statements and site names.
    ///
    /// Exit status: 0 when no finding reaches --fail-on, 1 when some do, 2 when the page could not
    /// be read.
    #[command(after_help = "Examples:\n  \
        affcheck explain public/best-tents/index.html --base-url https://example.com/best-tents/\n  \
        affcheck explain https://example.com/best-tents/\n  \
        affcheck explain page.html --format json | jq '.links[] | select(.status != \"compliant\")'")]
    Explain(cli::explain::ExplainArgs),

    /// Write a commented starter affcheck.toml (settings, site knowledge, severity overrides).
    Init(cli::init::InitArgs),

    /// Print a completion script for bash, zsh, fish, elvish or PowerShell to standard output.
    ///
    /// The script completes every subcommand, option and fixed value (such as --format and
    /// --fail-on). Write it where your shell loads completions from; see the examples below.
    #[command(after_help = "Examples:\n  \
        affcheck completions bash > ~/.local/share/bash-completion/completions/affcheck\n  \
        affcheck completions zsh > ~/.zfunc/_affcheck    # and fpath+=(~/.zfunc) before compinit\n  \
        affcheck completions fish > ~/.config/fish/completions/affcheck.fish\n  \
        eval (affcheck completions elvish | slurp)    # in ~/.config/elvish/rc.elv\n  \
        affcheck completions powershell | Out-String | Invoke-Expression    # in $PROFILE")]
    Completions(cli::completions::CompletionsArgs),

    /// Print the manual page (roff) to standard output, or write one page per command with --dir.
    ///
    /// The single page has every subcommand with its options and examples, the same text as
    /// --help; --dir writes affcheck.1 and affcheck-check.1, affcheck-crawl.1 … for a man folder.
    #[command(after_help = "Examples:\n  \
        affcheck man > affcheck.1 && man ./affcheck.1\n  \
        affcheck man --dir ~/.local/share/man/man1 && man affcheck-check")]
    Man(cli::man::ManArgs),
}

fn main() -> ExitCode {
    release_freed_memory_at_once();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => cli::check::run(args),
        Command::Crawl(args) => cli::crawl::run(args),
        Command::Explain(args) => cli::explain::run(args),
        Command::Init(args) => cli::init::run(args),
        Command::Warc(args) => cli::warc::run(args),
        Command::Completions(args) => cli::completions::run(args, Cli::command()),
        Command::Man(args) => cli::man::run(args, Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("affcheck: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
