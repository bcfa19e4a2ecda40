//! The composite GitHub Action (`action.yml`), its shell steps run for real with bash on a copy of
//! the example site, as the runner would run them: the audit step keeps affcheck's exit status
//! for the last step while the reports, annotations and job summary are still written, and the
//! cache key names what is built. The `uses:` steps (actions/cache, upload-sarif) and the cargo
//! install need GitHub and are not run here.

#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TempDir, copy_dir, site_dir};

const ACTION: &str = include_str!("../action.yml");

/// The `run: |` script of the step called `name`, without its indentation.
fn step_script(name: &str) -> String {
    let lines: Vec<&str> = ACTION.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("action.yml has no step {name:?}"));
    let run = (start + 1..lines.len())
        .take_while(|&i| !lines[i].trim_start().starts_with("- name:"))
        .find(|&i| lines[i].trim() == "run: |")
        .unwrap_or_else(|| panic!("step {name:?} has no `run: |` script"));
    let indent = lines[run].len() - lines[run].trim_start().len() + 2;
    let mut script = String::new();
    for line in &lines[run + 1..] {
        if !line.trim().is_empty() && line.len() - line.trim_start().len() < indent {
            break;
        }
        script += line.get(indent..).unwrap_or("");
        script.push('\n');
    }
    script
}

/// The step `name` as the runner starts a `shell: bash` step: its script in a file, run with
/// `bash --noprofile --norc -eo pipefail FILE`.
fn step_command(tmp: &Path, name: &str) -> Command {
    let file = tmp.join(format!("{}.sh", name.replace(' ', "-")));
    std::fs::write(&file, step_script(name)).unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(file);
    cmd
}

fn bash_installed() -> bool {
    Command::new("bash")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A runner's workspace with the example site built into `public/`, a home whose
/// `~/.affcheck/bin/affcheck` is the binary under test, and the files GitHub collects.
struct Runner {
    tmp: TempDir,
}

/// What one step did.
struct Step {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Runner {
    fn new() -> Runner {
        let tmp = TempDir::new("action");
        copy_dir(&site_dir(), &tmp.path().join("workspace/public"));
        let bin = tmp.path().join("home/.affcheck/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_affcheck"), bin.join("affcheck")).unwrap();
        for file in ["output", "summary"] {
            std::fs::write(tmp.path().join(file), "").unwrap();
        }
        Runner { tmp }
    }

    fn workspace(&self) -> PathBuf {
        self.tmp.path().join("workspace")
    }

    /// Runs the step `name` with `env` (its `env:` block, expressions filled in).
    fn run(&self, name: &str, env: &[(&str, &str)]) -> Step {
        let out = step_command(self.tmp.path(), name)
            .current_dir(self.workspace())
            .env("HOME", self.tmp.path().join("home"))
            .env("GITHUB_WORKSPACE", self.workspace())
            .env("GITHUB_ACTION_PATH", env!("CARGO_MANIFEST_DIR"))
            .env("GITHUB_OUTPUT", self.tmp.path().join("output"))
            .env("GITHUB_STEP_SUMMARY", self.tmp.path().join("summary"))
            .envs(env.iter().copied())
            .output()
            .expect("run bash");
        Step {
            code: out.status.code().expect("bash was killed"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The step outputs written so far (`name=value` lines of `$GITHUB_OUTPUT`).
    fn outputs(&self) -> BTreeMap<String, String> {
        std::fs::read_to_string(self.tmp.path().join("output"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("summary")).unwrap()
    }

    /// The audit step with the action's defaults and `args`.
    fn audit(&self, base_url: &str, args: &str) -> Step {
        self.run(
            "Audit affiliate disclosures",
            &[
                ("AFFCHECK_PATH", "public"),
                ("AFFCHECK_BASE_URL", base_url),
                ("AFFCHECK_ARGS", args),
                ("REPORT_DIR", "affcheck-report"),
            ],
        )
    }

    /// The summary and last steps, fed the audit step's exit status as the runner would.
    fn finish(&self) -> Step {
        let status = self.outputs()["exit-code"].clone();
        let summary = self.run(
            "Write the job summary",
            &[("REPORT_DIR", "affcheck-report"), ("STATUS", &status)],
        );
        assert_eq!(summary.code, 0, "summary step: {}", summary.stderr);
        self.run("Fail on violations", &[("STATUS", &status)])
    }
}

#[test]
fn violations_fail_the_last_step_after_reports_annotations_and_summary() {
    if !bash_installed() {
        eprintln!("bash is not installed: action steps not run");
        return;
    }
    let runner = Runner::new();
    let audit = runner.audit("https://www.example.com/", "");
    assert_eq!(
        audit.code, 0,
        "the audit step itself must not fail the job: {}",
        audit.stderr
    );
    let outputs = runner.outputs();
    assert_eq!(outputs["exit-code"], "1", "the example site has violations");
    assert_eq!(outputs["sarif-file"], "affcheck-report/report.sarif");

    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runner.workspace().join("affcheck-report/report.sarif")).unwrap(),
    )
    .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().any(
            |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "public/undisclosed-no-disclosure.html"
        ),
        "SARIF results point at the workspace's files"
    );
    // The annotations are printed as workflow commands in the step's log.
    assert!(
        audit
            .stdout
            .lines()
            .any(|l| l.starts_with("::error file=public/undisclosed-no-disclosure.html,line=")),
        "no annotations in the step log:\n{}",
        audit.stdout
    );

    let last = runner.finish();
    assert_eq!(last.code, 1, "violations fail the job");
    assert!(last.stdout.contains("::error::affcheck found violations"));
    assert!(
        runner.summary().contains("| `undisclosed` |"),
        "summary: {}",
        runner.summary()
    );
}

#[test]
fn extra_args_reach_affcheck_and_a_clean_run_passes() {
    if !bash_installed() {
        eprintln!("bash is not installed: action steps not run");
        return;
    }
    let runner = Runner::new();
    let audit = runner.audit("", "--fail-on never   --notices");
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert_eq!(runner.outputs()["exit-code"], "0", "{}", audit.stderr);
    let summary_md =
        std::fs::read_to_string(runner.workspace().join("affcheck-report/report.md")).unwrap();
    assert!(
        summary_md.contains("weak-disclosure") || summary_md.contains("missing-rel-sponsored"),
        "--notices did not reach affcheck:\n{summary_md}"
    );
    assert_eq!(runner.finish().code, 0);
}

#[test]
fn a_run_that_cannot_start_keeps_status_2_and_says_so_in_the_summary() {
    if !bash_installed() {
        eprintln!("bash is not installed: action steps not run");
        return;
    }
    let runner = Runner::new();
    let audit = runner.audit("", "--no-such-flag");
    assert_eq!(audit.code, 0);
    let outputs = runner.outputs();
    assert_eq!(outputs["exit-code"], "2");
    assert!(
        !outputs.contains_key("sarif-file"),
        "no SARIF upload without a report"
    );
    let last = runner.finish();
    assert_eq!(last.code, 2);
    assert!(last.stdout.contains("could not audit everything"));
    assert!(
        runner
            .summary()
            .contains("affcheck wrote no report (exit status 2)")
    );
}

#[test]
fn cache_key_follows_the_sources_or_the_resolved_commit() {
    if !bash_installed() {
        eprintln!("bash is not installed: action steps not run");
        return;
    }
    let runner = Runner::new();
    let own = runner.run(
        "Work out which affcheck to build",
        &[("AFFCHECK_REF", ""), ("ACTION_REPOSITORY", "")],
    );
    assert_eq!(own.code, 0, "{}", own.stderr);
    let key = runner.outputs()["key"].clone();
    let hash = key
        .strip_prefix("path-")
        .expect("a key of the action's sources");
    assert!(
        hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{key}"
    );

    let no_repo = runner.run(
        "Work out which affcheck to build",
        &[("AFFCHECK_REF", "v1.0.0"), ("ACTION_REPOSITORY", "")],
    );
    assert_eq!(no_repo.code, 1);
    assert!(no_repo.stdout.contains("::error::affcheck-ref needs"));

    // A "server" with the action's repository, an annotated tag and a branch.
    if !Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("git is not installed: ref resolution not checked");
        return;
    }
    let server = runner.tmp.path().join("server");
    let repo = server.join("owner/affcheck");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.test"])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["commit", "-q", "--allow-empty", "-m", "one"]);
    let tagged = git(&["rev-parse", "HEAD"]);
    git(&["tag", "-a", "v1.0.0", "-m", "release"]);
    git(&["commit", "-q", "--allow-empty", "-m", "two"]);
    let head = git(&["rev-parse", "HEAD"]);

    let server_url = format!("file://{}", server.display());
    for (reference, commit) in [("v1.0.0", &tagged), ("main", &head), (&tagged[..], &tagged)] {
        std::fs::write(runner.tmp.path().join("output"), "").unwrap();
        let step = step_command(runner.tmp.path(), "Work out which affcheck to build")
            .env("GITHUB_OUTPUT", runner.tmp.path().join("output"))
            .env("GITHUB_SERVER_URL", &server_url)
            .env("AFFCHECK_REF", reference)
            .env("ACTION_REPOSITORY", "owner/affcheck")
            .output()
            .unwrap();
        assert!(
            step.status.success(),
            "{}",
            String::from_utf8_lossy(&step.stderr)
        );
        let outputs = runner.outputs();
        assert_eq!(outputs["key"], format!("git-{commit}"), "ref {reference}");
        assert_eq!(outputs["git-rev"], *commit, "ref {reference}");
        assert_eq!(outputs["git-url"], format!("{server_url}/owner/affcheck"));
    }
}
