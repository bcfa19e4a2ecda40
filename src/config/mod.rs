//! `affcheck.toml`: project settings for `affcheck check` and `affcheck crawl`.
//!
//! Every setting the command line has is an optional key here; a flag given on the command line
//! wins over the file. Besides those, the file holds what the HTML cannot say:
//!
//! - `[site]`: a site-wide `disclosure` shown outside the HTML, `ignore_paths` (globs on page
//!   paths) and `ignore_links` (regular expressions on link URLs);
//! - `[severity]`: rule id → `error`, `warning`, `notice` or `off`;
//! - `[rules]`: inline rules in the schema of `rules/*.toml` (`[[rules.network]]`,
//!   `[[rules.cloaking]]`, `[[rules.language]]` …), merged after the rules folders.
//!
//! Unknown keys are errors that name the file, the key and its line ([`ConfigError`]). Relative
//! paths in the file (`output`, `output_dir`, `inventory`, `baseline`, `rules_dirs`) are relative
//! to the file's folder. [`STARTER_TOML`] is the commented file `affcheck init` writes.
//!
//! Typical use by the CLI:
//!
//! ```no_run
//! # use affcheck::config::Config;
//! # fn f(mut page: affcheck::findings::PageReport) -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load_default()?.unwrap_or_default(); // ./affcheck.toml when present
//! let notices = false; // --notices || config.notices
//! let rules = config.load_rules(&config.rules_dirs.clone().unwrap_or_default(), true)?;
//! let audit = affcheck::findings::AuditOptions { notices: config.audit_notices(notices), ..Default::default() };
//! // for each audited page:
//! if !config.ignores_page(&page.page_url) {
//!     config.apply_to(&mut page, notices);
//! }
//! # let _ = (rules, audit); Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{GlobSet, GlobSetBuilder};
use regex::RegexSet;
use serde::Deserialize;
use url::Url;

use crate::findings::{AuditOptions, PageReport, Rule, Severity, SiteDisclosure};
use crate::report::Format;
use crate::rules::schema::RulesFile;
use crate::rules::{RulesError, Ruleset, SiteNames};

mod de;

use de::*;

/// The file name looked for in the current folder.
pub const CONFIG_FILE: &str = "affcheck.toml";

/// Why a config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value is wrong.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// What is wrong (for an unknown key: "unknown field `KEY`, expected one of …").
        message: String,
    },
}

/// The lowest severity that fails a run (`fail_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Fail on errors.
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Never fail because of findings.
    Never,
}

impl FailOn {
    /// Every level, in `--help` order.
    pub const ALL: [FailOn; 3] = [FailOn::Error, FailOn::Warning, FailOn::Never];

    /// The name used on the command line and in `affcheck.toml`.
    pub fn name(self) -> &'static str {
        match self {
            FailOn::Error => "error",
            FailOn::Warning => "warning",
            FailOn::Never => "never",
        }
    }

    /// One line on what it means (`--help`).
    pub fn description(self) -> &'static str {
        match self {
            FailOn::Error => "fail on errors",
            FailOn::Warning => "fail on warnings and errors",
            FailOn::Never => "never fail because of findings",
        }
    }

    /// The lowest severity that fails, or `None` for `never`.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Never => None,
        }
    }
}

/// A `[severity]` value: a severity, or `off` to drop the rule's findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityLevel {
    /// Report as an error.
    Error,
    /// Report as a warning.
    Warning,
    /// Report as a notice (shown only with notices on).
    Notice,
    /// Do not report.
    Off,
}

impl SeverityLevel {
    /// The severity, or `None` for `off`.
    pub fn severity(self) -> Option<Severity> {
        match self {
            SeverityLevel::Error => Some(Severity::Error),
            SeverityLevel::Warning => Some(Severity::Warning),
            SeverityLevel::Notice => Some(Severity::Notice),
            SeverityLevel::Off => None,
        }
    }
}

/// `affcheck.toml`. Every command-line setting is an `Option`: `None` when the file does not set it,
/// so the CLI can apply flag → file → built-in default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The file this was loaded from (not a key).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// `--output`: the report file.
    #[serde(default)]
    pub output: Option<PathBuf>,
    /// `--format`: report formats; a name or a list (`"sarif"` or `["csv", "sarif"]`).
    #[serde(default, deserialize_with = "formats")]
    pub format: Option<Vec<Format>>,
    /// `--output-dir`: write one file per format into this folder.
    #[serde(default)]
    pub output_dir: Option<PathBuf>,
    /// `--inventory`: the affiliate-link inventory file.
    #[serde(default)]
    pub inventory: Option<PathBuf>,
    /// `--baseline`: an earlier findings CSV whose findings are accepted.
    #[serde(default)]
    pub baseline: Option<PathBuf>,
    /// `--base-url`: the public URL of folder targets.
    #[serde(default, deserialize_with = "base_url")]
    pub base_url: Option<Url>,
    /// `--rules`: folders (or files) of rules added to the defaults.
    #[serde(default)]
    pub rules_dirs: Option<Vec<PathBuf>>,
    /// `--no-default-rules`.
    #[serde(default)]
    pub no_default_rules: Option<bool>,
    /// `--fail-on`.
    #[serde(default)]
    pub fail_on: Option<FailOn>,
    /// `--notices`.
    #[serde(default)]
    pub notices: Option<bool>,
    /// `--jobs`.
    #[serde(default)]
    pub jobs: Option<usize>,
    /// `--timeout`, in seconds.
    #[serde(default)]
    pub timeout: Option<u64>,
    /// `--max-page-bytes`.
    #[serde(default)]
    pub max_page_bytes: Option<u64>,
    /// `[crawl]`: settings of `affcheck crawl`.
    #[serde(default)]
    pub crawl: CrawlConfig,
    /// `[site]`: what the HTML does not say.
    #[serde(default)]
    pub site: SiteConfig,
    /// `[severity]`: rule → severity or `off`. Unknown rule ids are errors.
    #[serde(default, deserialize_with = "severities")]
    pub severity: BTreeMap<Rule, SeverityLevel>,
    /// `[rules]`: inline rules in the `rules/*.toml` schema (validated on load); see
    /// [`Config::rules_source`].
    #[serde(default)]
    pub rules: Option<toml::Table>,
    #[serde(skip)]
    matchers: Matchers,
    /// Where `[site] disclosure` stands in the file: (1-based line, column).
    #[serde(skip)]
    disclosure_at: (usize, usize),
    /// The `[severity]` keys that are no built-in rule, with their (line, column): checked against
    /// the rules data's rules by [`Config::load_rules`].
    #[serde(skip)]
    data_rules_at: Vec<(String, usize, usize)>,
}

/// `[crawl]`: the settings of `affcheck crawl`, each overridden by its flag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrawlConfig {
    /// `--max-pages`: most pages audited.
    #[serde(default)]
    pub max_pages: Option<usize>,
    /// `--max-depth`: deepest link depth followed.
    #[serde(default)]
    pub max_depth: Option<u32>,
    /// `--concurrency`: requests in flight.
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// `--per-host`: requests in flight to one host.
    #[serde(default)]
    pub per_host: Option<usize>,
    /// `--delay-ms`: gap between requests to one host.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// `--include`: regular expressions a URL must match (one of).
    #[serde(default, deserialize_with = "regexes_opt")]
    pub include: Option<Vec<String>>,
    /// `--exclude`: regular expressions of URLs not crawled.
    #[serde(default, deserialize_with = "regexes_opt")]
    pub exclude: Option<Vec<String>>,
    /// `--user-agent`.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// `--header`: extra request headers, name → value (sent to the start hosts only).
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
    /// `--ignore-robots`.
    #[serde(default)]
    pub ignore_robots: Option<bool>,
    /// `--subdomains`.
    #[serde(default)]
    pub subdomains: Option<bool>,
    /// `--allow-private`: fetch internal addresses for any host.
    #[serde(default)]
    pub allow_private: Option<bool>,
}

/// `[site]`: facts about the site that the HTML does not carry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// A disclosure the site shows outside the audited HTML (a banner injected by a script, a
    /// notice on every page of the app). Off by default; when set, the audit may treat it as a
    /// counted disclosure before every link.
    #[serde(default)]
    pub disclosure: Option<toml::Spanned<String>>,
    /// The site's own names ("Trusted Reviews", "TR Labs"): a sentence with one of them as the
    /// earner ("Trusted Reviews may earn a commission …") is a disclosure on every page, as are
    /// the names each page states itself (`og:site_name`, the title, the host name).
    #[serde(default)]
    pub names: Vec<String>,
    /// Globs of pages not reported: matched against the URL path for URL pages (`/tag/**`) and
    /// against the path as shown for files (`public/drafts/**`), from the start of the path (a
    /// leading `/` or `./` on either side is ignored; start with `**/` to match at any depth).
    /// `*` stays within a path segment, `**` crosses segments.
    #[serde(default, deserialize_with = "globs")]
    pub ignore_paths: Vec<String>,
    /// Regular expressions (searched, not anchored) of link URLs whose findings are not reported
    /// and that leave the inventory.
    #[serde(default, deserialize_with = "regexes")]
    pub ignore_links: Vec<String>,
}

/// Compiled `ignore_paths` and `ignore_links`.
#[derive(Debug, Clone, Default)]
struct Matchers {
    paths: GlobSet,
    links: Option<RegexSet>,
}

/// Only the `[rules]` table, parsed with the rules schema (other keys ignored) to check it with the
/// same spans as the rest of the file.
#[derive(Deserialize)]
struct RulesOnly {
    #[serde(default)]
    #[allow(dead_code)]
    rules: Option<RulesFile>,
}

impl Config {
    /// Reads and checks a config file. Relative paths in it become relative to its folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::parse(path, &text)?;
        if let Some(dir) = path.parent() {
            config.resolve_paths(dir);
        }
        config.path = Some(path.to_path_buf());
        Ok(config)
    }

    /// Loads `./affcheck.toml` when it exists; `Ok(None)` when it does not.
    pub fn load_default() -> Result<Option<Config>, ConfigError> {
        let path = Path::new(CONFIG_FILE);
        if path.is_file() {
            Self::load(path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Parses config text; `name` is used in errors. Paths are kept as written.
    pub fn parse(name: &Path, text: &str) -> Result<Config, ConfigError> {
        let invalid = |err: toml::de::Error| {
            let (line, column) = err.span().map_or((1, 1), |s| line_col(text, s.start));
            ConfigError::Invalid {
                path: name.to_path_buf(),
                line,
                column,
                message: err.message().trim_end().replace('\n', " "),
            }
        };
        let mut config: Config = toml::from_str(text).map_err(invalid)?;
        let _: RulesOnly = toml::from_str(text).map_err(invalid)?;
        if let Some(d) = &config.site.disclosure {
            config.disclosure_at = line_col(text, d.span().start);
        }
        if config.severity.keys().any(|r| !Rule::ALL.contains(r)) {
            #[derive(Deserialize)]
            struct SeverityKeys {
                #[serde(default)]
                severity: BTreeMap<toml::Spanned<String>, toml::Value>,
            }
            let keys: SeverityKeys = toml::from_str(text).map_err(invalid)?;
            for key in keys.severity.keys() {
                if !Rule::ALL.iter().any(|r| r.id() == key.get_ref()) {
                    let (line, column) = line_col(text, key.span().start);
                    config
                        .data_rules_at
                        .push((key.get_ref().clone(), line, column));
                }
            }
        }
        config.matchers = Matchers::new(&config.site).map_err(|message| ConfigError::Invalid {
            path: name.to_path_buf(),
            line: 1,
            column: 1,
            message,
        })?;
        Ok(config)
    }

    fn resolve_paths(&mut self, dir: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        };
        for p in [
            &mut self.output,
            &mut self.output_dir,
            &mut self.inventory,
            &mut self.baseline,
        ]
        .into_iter()
        .flatten()
        {
            resolve(p);
        }
        for p in self.rules_dirs.iter_mut().flatten() {
            resolve(p);
        }
    }

    /// The site-wide disclosure text (`[site] disclosure`), when set and not blank.
    pub fn site_disclosure(&self) -> Option<&str> {
        self.site
            .disclosure
            .as_ref()
            .map(|d| d.get_ref().as_str())
            .filter(|d| !d.trim().is_empty())
    }

    /// The site's own names from `[site] names`.
    pub fn site_names(&self) -> SiteNames {
        let mut names = SiteNames::new();
        for n in &self.site.names {
            names.add(n);
        }
        names
    }

    /// The audit options this config asks for: notices (with `--notices` as `notices`), the
    /// site-wide disclosure graded by the wording model, and the site's names.
    ///
    /// A `[site] disclosure` that the wording model does not read as a disclosure is an error
    /// naming its line and column: such a text would silently pass every link of the site.
    pub fn audit_options(
        &self,
        rules: &Ruleset,
        notices: bool,
    ) -> Result<AuditOptions, ConfigError> {
        let site_disclosure = match self.site_disclosure() {
            None => None,
            Some(text) => Some(SiteDisclosure::grade(text, rules).ok_or_else(|| {
                let (line, column) = self.disclosure_at;
                ConfigError::Invalid {
                    path: self.path.clone().unwrap_or_else(|| PathBuf::from(CONFIG_FILE)),
                    line,
                    column,
                    message: format!(
                        "`[site] disclosure` is not a disclosure: the wording model finds no statement that the site earns money from its links in {text:?}; write the notice your site shows, e.g. \"We earn a commission when you buy through links on this site.\""
                    ),
                }
            })?),
        };
        Ok(AuditOptions {
            notices: self.audit_notices(notices),
            site_disclosure,
            site_names: self.site_names(),
        })
    }

    /// The severity findings of `rule` get: the `[severity]` override, else the rule's own;
    /// `None` when the rule is `off`.
    pub fn severity_of(&self, rule: Rule) -> Option<Severity> {
        match self.severity.get(&rule) {
            Some(level) => level.severity(),
            None => Some(rule.severity()),
        }
    }

    /// Whether the audit must produce notice-level rules: when `notices` (the `--notices` flag or
    /// the `notices` key) is on, or when `[severity]` raises a notice rule to warning or error.
    pub fn audit_notices(&self, notices: bool) -> bool {
        notices
            || Rule::ALL.iter().any(|&r| {
                r.severity() == Severity::Notice
                    && self.severity_of(r).is_some_and(|s| s > Severity::Notice)
            })
    }

    /// Whether `ignore_paths` matches the page (see [`SiteConfig::ignore_paths`]).
    pub fn ignores_page(&self, page_url: &str) -> bool {
        if self.matchers.paths.is_empty() {
            return false;
        }
        let candidate = match Url::parse(page_url) {
            Ok(url) if url.has_host() => url.path().to_string(),
            _ => page_url.replace('\\', "/"),
        };
        self.matchers.paths.is_match(path_key(&candidate))
    }

    /// Whether `ignore_links` matches the link URL.
    pub fn ignores_link(&self, link_url: &str) -> bool {
        !link_url.is_empty()
            && self
                .matchers
                .links
                .as_ref()
                .is_some_and(|set| set.is_match(link_url))
    }

    /// Applies the config to one audited page: an ignored page loses all its findings and links;
    /// findings and inventory links whose URL `ignore_links` matches are dropped; `[severity]`
    /// overrides are applied (`off` drops the finding); and notice-level findings are dropped
    /// unless `notices` is on (the effective `--notices` setting, not [`Config::audit_notices`]).
    pub fn apply_to(&self, report: &mut PageReport, notices: bool) {
        if self.ignores_page(&report.page_url) {
            report.findings.clear();
            report.links.clear();
            return;
        }
        report.links.retain(|l| !self.ignores_link(&l.link_url));
        report.findings.retain_mut(|f| {
            if self.ignores_link(&f.link_url) {
                return false;
            }
            match self.severity_of(f.rule) {
                None => false,
                Some(severity) => {
                    f.severity = severity;
                    notices || severity > Severity::Notice
                }
            }
        });
    }

    /// The inline `[rules]` as a rules file (TOML text) for [`Ruleset::load_with`], named after the
    /// config file; `None` without a `[rules]` table. Already checked against the rules schema by
    /// [`Config::parse`], so only rule compilation (a bad regex in a `path`) can still fail.
    pub fn rules_source(&self) -> Option<(String, String)> {
        let table = self.rules.as_ref()?;
        let name = format!(
            "{} [rules]",
            self.path
                .as_deref()
                .unwrap_or(Path::new(CONFIG_FILE))
                .display()
        );
        Some((name, toml::to_string(table).unwrap_or_default()))
    }

    /// Loads the rules: the defaults (unless `with_defaults` is false), every rules file of `dirs`,
    /// then the inline `[rules]`. The CLI passes `--rules` when given, else `rules_dirs`. A
    /// `[severity]` key that is neither a built-in rule nor a rule of the loaded rules data is an
    /// error naming its line.
    pub fn load_rules(&self, dirs: &[PathBuf], with_defaults: bool) -> Result<Ruleset, RulesError> {
        let rules = match self.rules_source() {
            Some((name, text)) => Ruleset::load_with(dirs, with_defaults, &[(&name, &text)]),
            None => Ruleset::load_with(dirs, with_defaults, &[]),
        }?;
        let path = || {
            self.path
                .clone()
                .unwrap_or_else(|| PathBuf::from(CONFIG_FILE))
        };
        rules.check_rule_ids(&self.data_rules_at, path)?;
        Ok(rules)
    }
}

impl Matchers {
    fn new(site: &SiteConfig) -> Result<Self, String> {
        let mut paths = GlobSetBuilder::new();
        for p in &site.ignore_paths {
            paths.add(glob(p).map_err(|e| format!("invalid glob `{p}`: {e}"))?);
        }
        let links = if site.ignore_links.is_empty() {
            None
        } else {
            Some(RegexSet::new(&site.ignore_links).map_err(|e| e.to_string())?)
        };
        Ok(Matchers {
            paths: paths.build().map_err(|e| e.to_string())?,
            links,
        })
    }
}

/// The commented `affcheck.toml` that `affcheck init` writes. Every setting is commented out, so
/// the file changes nothing until edited; uncommenting any example line gives a valid file.
pub const STARTER_TOML: &str = include_str!("starter.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{AffiliateLink, Finding, LinkStatus};

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("affcheck.toml"), text)
    }

    fn finding(rule: Rule, link: &str) -> Finding {
        Finding {
            page_url: "https://s.example/blog/a.html".into(),
            rule,
            severity: rule.severity(),
            link_url: link.into(),
            network: "n".into(),
            link_text: Default::default(),
            line: 1,
            disclosure_excerpt: Default::default(),
            disclosure_strength: None,
            disclosure_rule: Default::default(),
            message: String::new(),
        }
    }

    #[test]
    fn starter_parses_and_so_does_every_example() {
        let c = parse(STARTER_TOML).unwrap();
        assert!(c.format.is_none() && c.severity.is_empty() && c.rules.is_none());
        let uncommented: String = STARTER_TOML
            .lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if !rest.starts_with(' ') && !rest.is_empty() => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = parse(&uncommented).unwrap();
        assert_eq!(
            c.format,
            Some(vec![Format::Csv, Format::Sarif, Format::Markdown])
        );
        assert_eq!(
            c.severity.get(&Rule::WeakDisclosure),
            Some(&SeverityLevel::Off)
        );
        assert_eq!(c.crawl.headers.as_ref().unwrap().len(), 1);
        let (_, rules) = c.rules_source().unwrap();
        assert!(rules.contains("/deal/"), "{rules}");
        let set = c.load_rules(&[], true).unwrap();
        assert!(set.network_count() > 0);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse("fail_on = \"error\"\n\n[site]\ndisclosur = \"x\"\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("affcheck.toml:4:1: unknown field `disclosur`"),
            "{text}"
        );
        let err = parse("[severity]\nundisclosed = \"warning\"\nno-such-rule = \"off\"\n")
            .unwrap()
            .load_rules(&[], true)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("affcheck.toml:3:1: unknown rule `no-such-rule`"),
            "{err}"
        );
        let err = parse("[site]\nignore_links = [\n  'ok',\n  '(',\n]\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("affcheck.toml:4:3: invalid regular expression `(`"),
            "{err}"
        );
        let err = parse("[[rules.network]]\nid = \"x\"\nhots = []\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("affcheck.toml:3:1: unknown field `hots`"),
            "{err}"
        );
        let err = parse("format = [\"csv\", \"pdf\"]\n").unwrap_err();
        assert!(err.to_string().contains("`pdf`"), "{err}");
        let err = parse("base_url = \"ftp://x\"\n").unwrap_err();
        assert!(err.to_string().starts_with("affcheck.toml:1:12:"), "{err}");
    }

    #[test]
    fn apply_severity_ignores_and_notices() {
        let c = parse(
            "format = \"csv,sarif\"\n[site]\nignore_paths = [\"/drafts/**\"]\nignore_links = ['ignored\\.example']\n\
             [severity]\nundisclosed = \"warning\"\namazon-statement-missing = \"off\"\nmissing-rel-sponsored = \"error\"\n",
        )
        .unwrap();
        assert_eq!(c.format, Some(vec![Format::Csv, Format::Sarif]));
        assert!(c.audit_notices(false));
        let link = |url: &str| AffiliateLink {
            link_url: url.into(),
            network: "n".into(),
            network_rule: "n".into(),
            destination: None,
            link_text: Default::default(),
            line: 1,
            rel_sponsored: false,
            status: LinkStatus::Compliant,
            disclosure_excerpt: Default::default(),
            disclosure_strength: None,
            disclosure_rule: Default::default(),
        };
        let mut page = PageReport {
            page_url: "https://s.example/blog/a.html".into(),
            findings: vec![
                finding(Rule::Undisclosed, "https://a.example/"),
                finding(Rule::Undisclosed, "https://ignored.example/x"),
                finding(
                    Rule::StatementMissing(crate::findings::RuleId::new(
                        "amazon-statement-missing",
                    )),
                    "https://a.example/",
                ),
                finding(Rule::MissingRelSponsored, "https://a.example/"),
                finding(Rule::WeakDisclosure, "https://a.example/"),
            ],
            links: vec![
                link("https://a.example/"),
                link("https://ignored.example/x"),
            ],
        };
        c.apply_to(&mut page, false);
        let got: Vec<(Rule, Severity)> =
            page.findings.iter().map(|f| (f.rule, f.severity)).collect();
        assert_eq!(
            got,
            vec![
                (Rule::Undisclosed, Severity::Warning),
                (Rule::MissingRelSponsored, Severity::Error)
            ]
        );
        assert_eq!(page.links.len(), 1);
        assert!(c.ignores_page("https://s.example/drafts/x/y.html"));
        assert!(c.ignores_page("drafts/y.html"));
        assert!(!c.ignores_page("https://s.example/blog/drafts.html"));
    }

    #[test]
    fn paths_resolve_against_the_file() {
        let dir = std::env::temp_dir().join(format!("affcheck-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(CONFIG_FILE);
        std::fs::write(
            &file,
            "output_dir = \"out\"\nrules_dirs = [\"r\", \"/abs\"]\n",
        )
        .unwrap();
        let c = Config::load(&file).unwrap();
        assert_eq!(c.output_dir.as_deref(), Some(dir.join("out").as_path()));
        assert_eq!(
            c.rules_dirs.unwrap(),
            vec![dir.join("r"), PathBuf::from("/abs")]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("", 5), (1, 1));
    }
}
