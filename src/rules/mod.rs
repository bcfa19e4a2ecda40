//! What the checker knows: affiliate networks, cloaking prefixes, monetization scripts, disclosure
//! wording and hidden-text conventions.
//!
//! The knowledge lives in TOML files under `rules/` in the repository; they are embedded in the binary
//! as the defaults ([`Ruleset::defaults`]) and users can add or replace them ([`Ruleset::load`]).
//! This module compiles the files into matchers; it holds no knowledge of its own.

pub mod ids;
mod links;
mod phrases;
pub mod schema;
mod statements;

use std::path::{Path, PathBuf};

pub use links::{HostPattern, LinkClass, LinkKind};
pub use phrases::{Miss, NearMiss, PhraseMatcher, SiteNames, StatementMatch};
pub use schema::Strength;
pub use statements::RequiredStatement;

use links::{CompiledNetwork, CompiledScript};
use schema::{HiddenStyleRule, RulesFile};

/// The default rules files, embedded at build time: (path below `rules/`, contents), sorted by path.
/// Every `*.toml` under `rules/` is included (see `build.rs`).
pub const DEFAULT_RULES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/default_rules.rs"));

/// Why rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// A rules file or folder could not be read.
    #[error("cannot read rules from {path}: {source}")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A rules file is not valid TOML or does not follow the schema.
    #[error("rules file {file} is not valid: {message}")]
    Parse {
        /// The file name.
        file: String,
        /// What the TOML parser said, with line and column.
        message: String,
    },
    /// A config's `[severity]` names a rule that is neither built in nor defined by the rules.
    #[error("{}:{line}:{column}: unknown rule `{id}` in [severity]; rules are {known}", path.display())]
    UnknownRule {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the key.
        line: usize,
        /// 1-based column of the key.
        column: usize,
        /// The rule id.
        id: String,
        /// The known rule ids, comma-separated.
        known: String,
    },
    /// An entry is well-formed TOML but cannot be used.
    #[error("rules file {file}, entry `{id}`: {message}")]
    Invalid {
        /// The file name.
        file: String,
        /// The entry's id.
        id: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// Compiled rules, ready to classify links and read disclosures. Cheap to share between threads.
#[derive(Debug)]
pub struct Ruleset {
    networks: Vec<CompiledNetwork>,
    network_index: links::NetworkIndex,
    cloaking_prefixes: Vec<String>,
    scripts: Vec<CompiledScript>,
    phrases: PhraseMatcher,
    statements: Vec<RequiredStatement>,
    hidden_classes: rustc_hash::FxHashSet<String>,
    hidden_styles: Vec<HiddenStyleRule>,
}

/// The merged, not yet compiled content of several rules files.
#[derive(Default)]
struct Merged {
    file: RulesFile,
    /// For each entry, the file it came from (for error messages), by section and id.
    origin: std::collections::HashMap<(&'static str, String), String>,
}

impl Merged {
    fn add(&mut self, name: &str, text: &str) -> Result<(), RulesError> {
        let file: RulesFile = toml::from_str(text).map_err(|err| RulesError::Parse {
            file: name.to_string(),
            message: err.to_string().trim_end().replace('\n', " "),
        })?;
        for id in file.network.iter().map(|e| &e.id) {
            self.origin
                .insert(("network", id.clone()), name.to_string());
        }
        for id in file.script.iter().map(|e| &e.id) {
            self.origin.insert(("script", id.clone()), name.to_string());
        }
        for id in file.language.iter().map(|e| &e.id) {
            self.origin
                .insert(("language", id.clone()), name.to_string());
        }
        for id in file.required_statement.iter().map(|e| &e.id) {
            self.origin
                .insert(("required_statement", id.clone()), name.to_string());
        }
        merge(&mut self.file.network, file.network, |e| &e.id);
        merge(&mut self.file.cloaking, file.cloaking, |e| &e.id);
        merge(&mut self.file.script, file.script, |e| &e.id);
        merge(&mut self.file.language, file.language, |e| &e.id);
        merge(
            &mut self.file.required_statement,
            file.required_statement,
            |e| &e.id,
        );
        merge(&mut self.file.hidden_class, file.hidden_class, |e| &e.id);
        merge(&mut self.file.hidden_style, file.hidden_style, |e| &e.id);
        Ok(())
    }

    fn origin(&self, section: &'static str, id: &str) -> String {
        self.origin
            .get(&(section, id.to_string()))
            .cloned()
            .unwrap_or_default()
    }
}

/// Appends `new` to `into`, an entry with an id already present replacing the old one in place.
fn merge<T>(into: &mut Vec<T>, new: Vec<T>, id: impl Fn(&T) -> &String) {
    for entry in new {
        match into.iter().position(|old| id(old) == id(&entry)) {
            Some(at) => into[at] = entry,
            None => into.push(entry),
        }
    }
}

impl Ruleset {
    /// The rules embedded in the binary.
    pub fn defaults() -> Result<Self, RulesError> {
        Self::load(&[], true)
    }

    /// Loads the embedded defaults (unless `with_defaults` is false) and then every `*.toml` file of
    /// each folder in `dirs` (a path to a single file is read as it is), in sorted order.
    pub fn load(dirs: &[PathBuf], with_defaults: bool) -> Result<Self, RulesError> {
        Self::load_with(dirs, with_defaults, &[])
    }

    /// Like [`Ruleset::load`], then merges the in-memory files `extra` (name used in errors, TOML
    /// text) on top, in order; `affcheck.toml`'s inline `[rules]` come in this way.
    pub fn load_with(
        dirs: &[PathBuf],
        with_defaults: bool,
        extra: &[(&str, &str)],
    ) -> Result<Self, RulesError> {
        let mut merged = Merged::default();
        if with_defaults {
            for (name, text) in DEFAULT_RULES {
                merged.add(name, text)?;
            }
        }
        for dir in dirs {
            for path in rules_files(dir)? {
                let text = std::fs::read_to_string(&path).map_err(|source| RulesError::Read {
                    path: path.clone(),
                    source,
                })?;
                merged.add(&path.display().to_string(), &text)?;
            }
        }
        for (name, text) in extra {
            merged.add(name, text)?;
        }
        Self::compile(merged)
    }

    /// Compiles rules from in-memory files: (name used in errors, TOML text), merged in order.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Self, RulesError> {
        let mut merged = Merged::default();
        for (name, text) in sources {
            merged.add(name, text)?;
        }
        Self::compile(merged)
    }

    fn compile(merged: Merged) -> Result<Self, RulesError> {
        let statements = check_statements(&merged)?;
        let networks = merged
            .file
            .network
            .iter()
            .map(|rule| {
                CompiledNetwork::new(rule).map_err(|message| RulesError::Invalid {
                    file: merged.origin("network", &rule.id),
                    id: rule.id.clone(),
                    message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for network in &networks {
            let Some(id) = &network.required_statement else {
                continue;
            };
            if !statements.iter().any(|s| &s.id == id) {
                let known: Vec<&str> = statements.iter().map(|s| s.id.as_str()).collect();
                return Err(RulesError::Invalid {
                    file: merged.origin("network", &network.id),
                    id: network.id.to_string(),
                    message: format!(
                        "required_statement `{id}` is not the id of any [[required_statement]] (known: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                });
            }
        }
        let scripts = merged
            .file
            .script
            .iter()
            .map(|rule| {
                CompiledScript::new(rule).map_err(|message| RulesError::Invalid {
                    file: merged.origin("script", &rule.id),
                    id: rule.id.clone(),
                    message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let phrases = PhraseMatcher::new(&merged.file.language, &merged.file.required_statement)
            .map_err(|(section, id, message)| RulesError::Invalid {
                file: merged.origin(section, &id),
                id,
                message,
            })?;
        let mut cloaking_prefixes: Vec<String> = merged
            .file
            .cloaking
            .iter()
            .flat_map(|rule| rule.prefixes.iter().map(|p| normalize_prefix(p)))
            .collect();
        cloaking_prefixes.sort();
        cloaking_prefixes.dedup();
        let hidden_classes = merged
            .file
            .hidden_class
            .iter()
            .flat_map(|rule| rule.classes.iter().cloned())
            .collect();
        let hidden_styles = merged
            .file
            .hidden_style
            .into_iter()
            .map(|mut rule| {
                rule.property = rule.property.trim().to_ascii_lowercase();
                rule
            })
            .collect();
        Ok(Ruleset {
            network_index: links::NetworkIndex::new(&networks),
            networks,
            cloaking_prefixes,
            scripts,
            phrases,
            statements: statements
                .into_iter()
                .map(statements::Checked::register)
                .collect(),
            hidden_classes,
            hidden_styles,
        })
    }

    /// The disclosure wording matcher.
    pub fn phrases(&self) -> &PhraseMatcher {
        &self.phrases
    }

    /// The required statements loaded (`[[required_statement]]`), in file order.
    pub fn required_statements(&self) -> &[RequiredStatement] {
        &self.statements
    }

    /// The required statement with this id.
    pub fn required_statement(&self, id: &str) -> Option<&RequiredStatement> {
        self.statements.iter().find(|s| s.id == id)
    }

    /// Every rule a finding can have with these rules, in report order: the built-in rules and the
    /// rules of the required statements.
    pub fn rules(&self) -> Vec<ids::Rule> {
        let mut all = ids::Rule::ALL.to_vec();
        all.extend(self.statements.iter().map(|s| s.rule));
        all.sort();
        all
    }

    /// Checks rule ids that a config names (`(id, line, column)` in the file at `path`): each must
    /// be a rule of [`Ruleset::rules`].
    pub fn check_rule_ids(
        &self,
        ids: &[(String, usize, usize)],
        path: impl Fn() -> PathBuf,
    ) -> Result<(), RulesError> {
        let rules = self.rules();
        match ids
            .iter()
            .find(|(id, ..)| !rules.iter().any(|r| r.id() == id))
        {
            None => Ok(()),
            Some((id, line, column)) => Err(RulesError::UnknownRule {
                path: path(),
                line: *line,
                column: *column,
                id: id.clone(),
                known: rules.iter().map(|r| r.id()).collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// Number of affiliate network rules loaded.
    pub fn network_count(&self) -> usize {
        self.networks.len()
    }

    /// Number of distinct affiliate programs loaded: rules that share a network name (a program's
    /// click links and its short links) count once.
    pub fn program_count(&self) -> usize {
        self.networks
            .iter()
            .map(|n| &*n.name)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    }

    /// Whether an element with this class hides its text visually.
    pub fn is_hidden_class(&self, class: &str) -> bool {
        self.hidden_classes.contains(class)
    }

    /// Whether a CSS declaration block (`a: b; c: d`) hides the element it applies to.
    pub fn style_hides(&self, declarations: &str) -> bool {
        declarations.split(';').any(|decl| {
            let Some((property, value)) = decl.split_once(':') else {
                return false;
            };
            let property = property.trim();
            // Most declarations name a property no rule is about: decide that without allocating.
            let mut rules = self
                .hidden_styles
                .iter()
                .filter(|rule| rule.property.eq_ignore_ascii_case(property))
                .peekable();
            if rules.peek().is_none() {
                return false;
            }
            let value: String = value
                .to_ascii_lowercase()
                .replace("!important", "")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            rules.any(|rule| {
                rule.values.contains(&value)
                    || rule.value_prefixes.iter().any(|p| value.starts_with(p))
            })
        })
    }

    /// Classifies a link. `page` is the URL of the page holding it, used to recognise same-site
    /// cloaked links; `sponsored` tells whether its `rel` contains `sponsored`.
    pub fn classify_link(
        &self,
        url: &url::Url,
        page: Option<&url::Url>,
        sponsored: bool,
    ) -> Option<LinkClass> {
        links::classify(self, url, page, sponsored)
    }

    /// Whether `url` is a same-site link (relative to the page at `page`) under a cloaking prefix
    /// such as `/go/`: a redirect the site uses to hide an affiliate URL.
    pub fn is_cloaked_link(&self, url: &url::Url, page: Option<&url::Url>) -> bool {
        links::is_cloaked(self, url, page)
    }

    /// Recognises a monetization script by its `src` URL.
    pub fn script_by_src(&self, src: &url::Url) -> Option<&str> {
        self.scripts
            .iter()
            .find(|s| s.matches_src(src))
            .map(|s| s.name.as_str())
    }

    /// Recognises a monetization script by the text of an inline `<script>`.
    pub fn script_by_inline(&self, text: &str) -> Option<&str> {
        self.scripts
            .iter()
            .find(|s| s.matches_inline(text))
            .map(|s| s.name.as_str())
    }
}

/// Checks every `[[required_statement]]`: each on its own, then that no two share a rule id.
fn check_statements(merged: &Merged) -> Result<Vec<statements::Checked>, RulesError> {
    let languages: Vec<&str> = merged.file.language.iter().map(|l| l.id.as_str()).collect();
    let mut out: Vec<statements::Checked> = Vec::new();
    for rule in &merged.file.required_statement {
        let invalid = |message: String| RulesError::Invalid {
            file: merged.origin("required_statement", &rule.id),
            id: rule.id.clone(),
            message,
        };
        let checked = statements::check(rule, &languages).map_err(invalid)?;
        if let Some(other) = out
            .iter()
            .find(|o| o.definition.id == checked.definition.id)
        {
            return Err(invalid(format!(
                "rule id `{}` is already the rule of required statement `{}`; give each its own",
                checked.definition.id, other.id
            )));
        }
        out.push(checked);
    }
    Ok(out)
}

/// Cloaking prefixes are compared on lower-cased paths and always end with `/`.
fn normalize_prefix(prefix: &str) -> String {
    let mut p = prefix.trim().to_ascii_lowercase();
    if !p.starts_with('/') {
        p.insert(0, '/');
    }
    if !p.ends_with('/') {
        p.push('/');
    }
    p
}

/// The rules files a `--rules` argument names: a file as it is, or a folder's `*.toml`, sorted.
fn rules_files(path: &Path) -> Result<Vec<PathBuf>, RulesError> {
    let read_err = |source| RulesError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "toml") && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_compile() {
        let rules = Ruleset::defaults().expect("embedded rules must compile");
        assert!(
            rules.program_count() >= 80,
            "the issue asks for at least 80 programs"
        );
    }

    #[test]
    fn later_file_replaces_entry_with_same_id() {
        let a = r#"
            [[network]]
            id = "x"
            name = "Old"
            source = "test"
            hosts = ["old.example"]
        "#;
        let b = r#"
            [[network]]
            id = "x"
            name = "New"
            source = "test"
            hosts = ["new.example"]
        "#;
        let rules = Ruleset::from_sources(&[("a.toml", a), ("b.toml", b)]).unwrap();
        assert_eq!(rules.network_count(), 1);
        let url = url::Url::parse("https://new.example/x").unwrap();
        assert_eq!(
            &*rules.classify_link(&url, None, false).unwrap().network,
            "New"
        );
        let old = url::Url::parse("https://old.example/x").unwrap();
        assert!(rules.classify_link(&old, None, false).is_none());
    }

    #[test]
    fn unknown_key_is_an_error_naming_file_and_line() {
        let bad = "[[network]]\nid = \"x\"\nname = \"X\"\nsource = \"s\"\nhosts = []\nhostz = []\n";
        let err = Ruleset::from_sources(&[("mine.toml", bad)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("mine.toml"), "{err}");
        assert!(err.contains("hostz"), "{err}");
        assert!(err.contains("line 6"), "{err}");
    }

    #[test]
    fn bad_regex_names_the_entry() {
        let bad = "[[network]]\nid = \"broken\"\nname = \"X\"\nsource = \"s\"\nhosts = [\"a.example\"]\npath = \"(\"\n";
        let err = Ruleset::from_sources(&[("mine.toml", bad)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("broken") && err.contains("mine.toml"), "{err}");
    }

    /// A language with one statement form, enough for required statements to be read.
    const LANG: &str = r#"
        [[language]]
        id = "en"
        source = "test"
        [language.terms]
        self = ["we"]
        earn = ["earn"]
        [[language.statement]]
        id = "we-earn"
        strength = "explicit"
        pattern = "self ~2 earn"
    "#;

    fn statement(extra: &str) -> String {
        format!(
            "[[required_statement]]\nid = \"acme-partners\"\nprogram = \"Acme Partners\"\nsource = \"test\"\n{extra}\n"
        )
    }

    fn load_error(files: &[(&str, &str)]) -> String {
        Ruleset::from_sources(files).unwrap_err().to_string()
    }

    #[test]
    fn required_statement_compiles_with_defaults_from_the_program() {
        let file = statement("wording = { en = [\"acme partner*\"] }");
        let rules = Ruleset::from_sources(&[("lang.toml", LANG), ("acme.toml", &file)]).unwrap();
        let s = rules.required_statement("acme-partners").unwrap();
        assert_eq!(s.rule.id(), "acme-partners-statement-missing");
        assert_eq!(s.severity, crate::findings::Severity::Warning);
        assert_eq!(s.program, "Acme Partners");
        assert!(s.message.contains("Acme Partners"), "{}", s.message);
        assert_eq!(
            rules.phrases().find_statements("As Acme Partners we earn.")[0].statements,
            ["acme-partners"]
        );
        assert!(
            rules.phrases().find_statements("We earn.")[0]
                .statements
                .is_empty()
        );
        assert!(rules.rules().contains(&s.rule));
    }

    #[test]
    fn network_naming_an_unknown_statement_is_an_error_naming_file_and_ids() {
        let network = "[[network]]\nid = \"acme\"\nname = \"Acme\"\nsource = \"s\"\nhosts = [\"acme.example\"]\nrequired_statement = \"acme-partner\"\n";
        let file = statement("wording = { en = [\"acme partner*\"] }");
        let err = load_error(&[
            ("lang.toml", LANG),
            ("acme.toml", &file),
            ("net.toml", network),
        ]);
        assert!(err.contains("net.toml") && err.contains("`acme`"), "{err}");
        assert!(
            err.contains("`acme-partner`") && err.contains("known: acme-partners"),
            "{err}"
        );
        let err = load_error(&[("net.toml", network)]);
        assert!(err.contains("known: none"), "{err}");
    }

    #[test]
    fn required_statement_errors_name_file_and_entry() {
        for (extra, needle) in [
            ("", "`wording` lists no terms"),
            ("wording = { en = [] }", "`wording` lists no terms"),
            (
                "wording = { xx = [\"acme\"] }",
                "`wording` for language `xx`, which no [[language]] entry defines",
            ),
            (
                "rule = \"undisclosed\"\nwording = { en = [\"acme\"] }",
                "`undisclosed` is a built-in rule",
            ),
            (
                "rule = \"Acme Missing\"\nwording = { en = [\"acme\"] }",
                "must be lower-case letters",
            ),
            (
                "severity = \"fatal\"\nwording = { en = [\"acme\"] }",
                "severity `fatal`",
            ),
            (
                "wording = { en = [\"a*\"] }",
                "wording `en`: `a*`: a stem needs",
            ),
        ] {
            let file = statement(extra);
            let err = load_error(&[("lang.toml", LANG), ("acme.toml", &file)]);
            assert!(
                err.contains("acme.toml")
                    && err.contains("`acme-partners`")
                    && err.contains(needle),
                "{extra:?}: {err}"
            );
        }
        let unknown = statement("wording = { en = [\"acme\"] }\nwordin = 1");
        let err = load_error(&[("acme.toml", &unknown)]);
        assert!(err.contains("acme.toml") && err.contains("wordin"), "{err}");
    }

    #[test]
    fn two_statements_with_one_rule_id_are_an_error() {
        let a = statement("rule = \"partner-statement-missing\"\nwording = { en = [\"acme\"] }");
        let b = "[[required_statement]]\nid = \"other\"\nprogram = \"Other\"\nsource = \"s\"\nrule = \"partner-statement-missing\"\nwording = { en = [\"other\"] }\n";
        let err = load_error(&[("lang.toml", LANG), ("a.toml", &a), ("b.toml", b)]);
        assert!(
            err.contains("b.toml")
                && err.contains("`other`")
                && err.contains("already the rule of required statement `acme-partners`"),
            "{err}"
        );
        // The same id in a later file replaces the entry instead.
        let b =
            statement("rule = \"partner-statement-missing\"\nwording = { en = [\"acme corp\"] }");
        let rules =
            Ruleset::from_sources(&[("lang.toml", LANG), ("a.toml", &a), ("b.toml", &b)]).unwrap();
        assert_eq!(rules.required_statements().len(), 1);
    }

    #[test]
    fn the_default_rules_define_the_amazon_statement() {
        let rules = Ruleset::defaults().unwrap();
        let s = rules.required_statement("amazon-associates").unwrap();
        assert_eq!(s.rule.id(), "amazon-statement-missing");
        assert_eq!(s.severity, crate::findings::Severity::Warning);
        assert_eq!(s.program, "Amazon Associates");
        let url = url::Url::parse("https://amzn.to/3abc").unwrap();
        let class = rules.classify_link(&url, None, false).unwrap();
        assert_eq!(
            class.required_statement.as_deref(),
            Some("amazon-associates")
        );
    }

    #[test]
    fn style_declarations_that_hide() {
        let rules = Ruleset::defaults().unwrap();
        assert!(rules.style_hides("display:none"));
        assert!(rules.style_hides("color: red; DISPLAY : None !important"));
        assert!(rules.style_hides("visibility:hidden"));
        assert!(!rules.style_hides("display:block"));
        assert!(!rules.style_hides("opacity:0.5"));
        assert!(rules.style_hides("opacity:0"));
    }
}
