//! The on-disk shape of rules files (`rules/*.toml`).
//!
//! Every rules file may hold any of the sections below; files are merged in order, and an entry whose
//! `id` repeats an earlier entry of the same section replaces it. The README documents the schema for
//! users; keep the two in step.

use serde::Deserialize;

/// One parsed rules file: every section is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// Affiliate programs recognised by URL shape.
    #[serde(default)]
    pub network: Vec<NetworkRule>,
    /// Same-site path prefixes used by link-cloaking plugins.
    #[serde(default)]
    pub cloaking: Vec<CloakingRule>,
    /// Scripts that rewrite ordinary links into affiliate links at click time.
    #[serde(default)]
    pub script: Vec<ScriptRule>,
    /// Disclosure wording, one entry per language.
    #[serde(default)]
    pub language: Vec<LanguageRule>,
    /// Statements that affiliate programs require on pages with their links.
    #[serde(default)]
    pub required_statement: Vec<RequiredStatementRule>,
    /// Class names that hide text visually.
    #[serde(default)]
    pub hidden_class: Vec<HiddenClassRule>,
    /// CSS declarations that hide text visually.
    #[serde(default)]
    pub hidden_style: Vec<HiddenStyleRule>,
}

/// An affiliate program: a link is affiliate when its host matches one of `hosts` (or any host, with
/// `any_host`), its path matches `path` (when given), it carries one of `params` with a non-empty value
/// (when given) and it carries every one of `all_params` with a non-empty value (when given).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkRule {
    /// Stable identifier, unique among networks.
    pub id: String,
    /// Network name written to the report's `network` column.
    pub name: String,
    /// Where the URL shape was confirmed.
    pub source: String,
    /// Host patterns: `example.com` matches that host and every subdomain; `goto.*` matches any host
    /// whose first label is `goto`. Left out (empty) only when `any_host` is set.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Match on every host: for affiliate software that merchants install on their own domains (Post
    /// Affiliate Pro's `a_aid`, Refersion's `rfsn`). Such a rule names no `hosts` and must not rely on
    /// generic parameters alone (`ref`, `id`, `via`, `utm_*` …): it needs a `path`, a distinctive
    /// parameter in `all_params`, or only distinctive parameters in `params`.
    #[serde(default)]
    pub any_host: bool,
    /// Regular expression the URL path must match (searched, so anchor it with `^` when needed).
    #[serde(default)]
    pub path: Option<String>,
    /// Query parameters (names compared case-insensitively); at least one must be present and non-empty.
    #[serde(default)]
    pub params: Vec<String>,
    /// Query parameters (names compared case-insensitively) that must all be present and non-empty,
    /// for shapes identified by a combination (`offer_id` with `aff_id`).
    #[serde(default)]
    pub all_params: Vec<String>,
    /// Query parameter that carries the destination URL, reported in the message when present.
    #[serde(default)]
    pub destination_param: Option<String>,
    /// The `id` of the `[[required_statement]]` the program requires on every page with its links
    /// (`amazon-associates`).
    #[serde(default)]
    pub required_statement: Option<String>,
}

/// A statement an affiliate program requires on every page with its links, in its own words ("As an
/// Amazon Associate I earn from qualifying purchases"). Networks name it by `id`; a page with their
/// links and no counted disclosure holding one of its `wording` terms gets a finding of `rule`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredStatementRule {
    /// Stable identifier, referred to by networks' `required_statement`.
    pub id: String,
    /// The program's name, written to the report's `network` column.
    pub program: String,
    /// Where the requirement and its wording come from.
    pub source: String,
    /// Rule id of the finding (lower-case letters, digits and `-`, not a built-in rule's id);
    /// `<id>-statement-missing` when left out.
    #[serde(default)]
    pub rule: Option<String>,
    /// `error`, `warning` or `notice`; `warning` when left out.
    #[serde(default)]
    pub severity: Option<String>,
    /// Short title of the rule (SARIF `shortDescription`).
    #[serde(default)]
    pub title: Option<String>,
    /// One sentence on what the rule checks.
    #[serde(default)]
    pub description: Option<String>,
    /// What to do about a finding (SARIF `help`).
    #[serde(default)]
    pub help: Option<String>,
    /// The finding's message.
    #[serde(default)]
    pub message: Option<String>,
    /// Per language id: terms (with the syntax of a language's `terms`) any one of which, in a
    /// sentence the wording model reads as a disclosure, makes that disclosure this statement.
    #[serde(default)]
    pub wording: std::collections::BTreeMap<String, Vec<String>>,
}

/// Path prefixes that cloaking plugins put in front of affiliate redirects on the publisher's own site.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloakingRule {
    /// Stable identifier.
    pub id: String,
    /// Where the prefix convention was confirmed.
    pub source: String,
    /// Path prefixes such as `/go/`; a link matches when its path starts with one and continues.
    pub prefixes: Vec<String>,
}

/// A monetization script recognised by its `src` URL or by text in an inline script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptRule {
    /// Stable identifier.
    pub id: String,
    /// Product name written to the report's `network` column.
    pub name: String,
    /// Where the script's address or snippet was confirmed.
    pub source: String,
    /// Host patterns for `<script src>`, with the same syntax as network hosts.
    #[serde(default)]
    pub src_hosts: Vec<String>,
    /// Regular expression the `src` path must match (when given).
    #[serde(default)]
    pub src_path: Option<String>,
    /// Literal snippets that identify the script inside an inline `<script>` (case-sensitive).
    #[serde(default)]
    pub inline: Vec<String>,
}

/// Disclosure wording for one language: word classes (`terms`) and the statement forms that combine
/// them, plus labels. See `rules/wording/README.md` for the model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageRule {
    /// Language code (`en`, `de`, …); also the entry's id.
    pub id: String,
    /// The language's name in English, for reports and the README.
    #[serde(default)]
    pub name: String,
    /// Where the wording comes from.
    pub source: String,
    /// Named word classes used by `statement` forms. A term is one or more words; a trailing `*` on
    /// the last word matches any word starting with it. The class `cost` is special: a negation
    /// directly before a `cost` term ("at *no* extra cost", "*ohne* Mehrkosten") negates nothing.
    /// The class `not_name` lists capitalized words that are never a publisher's name ("The",
    /// "When"); words of every other class are never names either.
    #[serde(default)]
    pub terms: std::collections::BTreeMap<String, Vec<String>>,
    /// Words that, inside a statement or just before it in the same clause, negate it ("we do *not*
    /// earn …").
    #[serde(default)]
    pub negations: Vec<String>,
    /// Phrases in which a negation word negates nothing ("may or may not", "whether or not").
    #[serde(default)]
    pub negation_exceptions: Vec<String>,
    /// How many words after a statement a negation in the same clause still cancels it (0, the
    /// default, for none): verb-second languages put it there ("Wir verdienen daran *nichts*").
    #[serde(default)]
    pub negation_after: usize,
    /// Words that start a new clause, ending the reach of a negation before them ("but").
    #[serde(default)]
    pub clause_breaks: Vec<String>,
    /// Letter sequences that attach to the front of words (Arabic `و`, `ال`; Hebrew `ה`, `ו`): a word
    /// starting with one is also looked up without it.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Statements that count as a disclosure.
    #[serde(default)]
    pub statement: Vec<StatementRule>,
    /// Stand-alone labels ("Anzeige", "Sponsored") that disclose the links after them when they are
    /// the whole text of a visible block that is not a link, or start it followed by `:`, `|` or a
    /// dash, or stand in it as a hashtag (`#ad`).
    #[serde(default)]
    pub labels: Vec<String>,
    /// Labels that disclose the one link they are attached to ("paid link", "affiliate"): in the
    /// link text, or in brackets or after a dash right before or after the link. As a whole block
    /// they also disclose the links after them, like `labels`.
    #[serde(default)]
    pub inline_labels: Vec<String>,
    /// Symbols a legend explains ("links marked with * are affiliate links"): a link whose text
    /// ends with one, or that one directly follows, is disclosed by a visible legend wherever it
    /// stands.
    #[serde(default)]
    pub markers: Vec<String>,
    /// Link texts that only point to a disclosure elsewhere ("Affiliate disclosure").
    #[serde(default)]
    pub link_labels: Vec<String>,
}

/// One statement form: word classes in order with the most words allowed between them
/// (`pattern`), or all of them in any order within a span (`all` + `within`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRule {
    /// Stable identifier, unique within the language.
    pub id: String,
    /// `explicit` (says the site earns money) or `label` (names affiliate links without saying so).
    pub strength: Strength,
    /// Ordered form such as `self ~4 earn ~6 money`: class names (`a|b` for either), each followed
    /// by `~N`, the most words allowed before the next one. All parts fall in one sentence.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Order-free form: every listed class (`a|b` for either) appears in one sentence, in any order.
    #[serde(default)]
    pub all: Vec<String>,
    /// With `all`: the longest span, in words, from the first part to the end of the last.
    #[serde(default)]
    pub within: Option<usize>,
    /// Classes (`a|b` for either) that must each also appear in the sentence or in the sentence
    /// just before or after it in the same block ("… through *these links*").
    #[serde(default)]
    pub requires: Vec<String>,
    /// Classes that must not stand between the parts ("we help *bloggers* earn a commission").
    #[serde(default)]
    pub blocked_by: Vec<String>,
    /// Classes that must not appear anywhere in the sentence ("buy me a *coffee*" is a donation,
    /// not an affiliate purchase).
    #[serde(default)]
    pub unless: Vec<String>,
}

/// How clearly a disclosure tells the reader that the site earns money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// Only names the links ("this post contains affiliate links", "Anzeige").
    Label,
    /// States that the site or author earns money from the links.
    Explicit,
}

/// Class names that hide text visually.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenClassRule {
    /// Stable identifier.
    pub id: String,
    /// Where the convention comes from.
    pub source: String,
    /// Class names (compared exactly).
    pub classes: Vec<String>,
}

/// A CSS declaration that hides text visually: `property: value`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenStyleRule {
    /// Stable identifier.
    pub id: String,
    /// Where the convention comes from.
    pub source: String,
    /// CSS property name, lower case.
    pub property: String,
    /// Values (lower case, spaces removed, `!important` dropped) that hide.
    #[serde(default)]
    pub values: Vec<String>,
    /// Value prefixes that hide (e.g. `rect(0` for `clip`).
    #[serde(default)]
    pub value_prefixes: Vec<String>,
}
