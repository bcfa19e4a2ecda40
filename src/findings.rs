//! The *findings* stage: which links are affiliate links, which disclosures the page has, and what is
//! wrong.
//!
//! For each affiliate link, in order of precedence:
//! 1. a counted (visible) disclosure starts before the link: compliant;
//! 2. a counted disclosure exists only after it: `disclosure-after-link`;
//! 3. only hidden disclosure text exists: `hidden-disclosure`;
//! 4. only a link to a disclosure exists: `disclosure-link-only`;
//! 5. nothing: `undisclosed`.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::page::{Page, Visibility};
use crate::rules::{LinkClass, Ruleset, SiteNames, Strength};

/// Longest disclosure excerpt in a report, in characters.
pub const EXCERPT_CHARS: usize = 120;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; off unless asked for.
    Notice,
    /// Should be fixed; does not fail a run by default.
    Warning,
    /// A compliance violation.
    Error,
}

impl Severity {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// The severity with this report name, as [`Severity::as_str`] writes it.
    pub fn from_id(id: &str) -> Option<Severity> {
        [Severity::Notice, Severity::Warning, Severity::Error]
            .into_iter()
            .find(|s| s.as_str() == id)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule a finding breaks: one of the built-in rules, or the rule of a statement that the rules
/// data requires (`[[required_statement]]`, such as `amazon-statement-missing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// An affiliate link with no disclosure anywhere on the page.
    Undisclosed,
    /// An affiliate link that comes before the first visible disclosure.
    DisclosureAfterLink,
    /// The page's only disclosure text is hidden.
    HiddenDisclosure,
    /// The page only links to a disclosure page.
    DisclosureLinkOnly,
    /// The page loads a link-rewriting script and discloses nothing.
    MonetizationScriptUndisclosed,
    /// Links of a program without the statement the program requires; the rule id, severity and
    /// texts come from the rules data ([`Rule::define`]).
    StatementMissing(RuleId),
    /// An affiliate link without `rel="sponsored"`.
    MissingRelSponsored,
    /// The disclosure before a link only labels it ("contains affiliate links") without saying the
    /// site earns money from it.
    WeakDisclosure,
}

/// The id of a rule defined by the rules data, interned for the life of the process so that
/// [`Rule`] stays `Copy`. Ids compare as strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(&'static str);

impl RuleId {
    /// The interned id for `id` (each distinct id is stored once per process).
    pub fn new(id: &str) -> RuleId {
        static IDS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
            std::sync::Mutex::new(std::collections::BTreeSet::new());
        let mut ids = IDS.lock().unwrap_or_else(|e| e.into_inner());
        match ids.get(id) {
            Some(&known) => RuleId(known),
            None => {
                let leaked: &'static str = Box::leak(id.to_string().into_boxed_str());
                ids.insert(leaked);
                RuleId(leaked)
            }
        }
    }

    /// The id as written in reports.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// What the rules data says about a rule it defines: its default severity and the texts reports
/// show (SARIF's rule descriptors, `Rule::description`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDefinition {
    /// The rule id.
    pub id: String,
    /// The severity its findings have unless `[severity]` says otherwise.
    pub severity: Severity,
    /// A short title (SARIF `shortDescription`).
    pub title: String,
    /// One sentence on what the rule checks.
    pub description: String,
    /// What to do about a finding (SARIF `help`).
    pub help: String,
}

/// Rules defined by the rules data loaded in this process, by id; a later definition of an id
/// replaces the earlier one.
static DEFINED: std::sync::RwLock<std::collections::BTreeMap<RuleId, &'static RuleDefinition>> =
    std::sync::RwLock::new(std::collections::BTreeMap::new());

impl Rule {
    /// Every built-in rule, in report order; [`Rule::all`] adds the rules the rules data defines.
    pub const ALL: [Rule; 7] = [
        Rule::Undisclosed,
        Rule::DisclosureAfterLink,
        Rule::HiddenDisclosure,
        Rule::DisclosureLinkOnly,
        Rule::MonetizationScriptUndisclosed,
        Rule::MissingRelSponsored,
        Rule::WeakDisclosure,
    ];

    /// Every rule known in this process, in report order: the built-in rules, with the rules
    /// defined by the rules data loaded so far (by id) where required statements stand.
    pub fn all() -> Vec<Rule> {
        let defined = DEFINED.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<Rule> = Rule::ALL.to_vec();
        out.extend(defined.keys().map(|&id| Rule::StatementMissing(id)));
        out.sort();
        out
    }

    /// Records the rule of a required statement of the rules data (done by
    /// [`crate::rules::Ruleset`] on load) and returns it. Its texts and default severity are then
    /// known to every report of the process; a later definition with the same id replaces them.
    pub fn define(definition: RuleDefinition) -> Rule {
        let id = RuleId::new(&definition.id);
        let mut defined = DEFINED.write().unwrap_or_else(|e| e.into_inner());
        if defined.get(&id).is_none_or(|d| **d != definition) {
            defined.insert(id, Box::leak(Box::new(definition)));
        }
        Rule::StatementMissing(id)
    }

    /// What the rules data says about this rule; `None` for built-in rules and for ids no loaded
    /// rules data defines.
    pub fn definition(self) -> Option<&'static RuleDefinition> {
        match self {
            Rule::StatementMissing(id) => DEFINED
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&id)
                .copied(),
            _ => None,
        }
    }

    /// The rule id used in reports.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Undisclosed => "undisclosed",
            Rule::DisclosureAfterLink => "disclosure-after-link",
            Rule::HiddenDisclosure => "hidden-disclosure",
            Rule::DisclosureLinkOnly => "disclosure-link-only",
            Rule::MonetizationScriptUndisclosed => "monetization-script-undisclosed",
            Rule::StatementMissing(id) => id.as_str(),
            Rule::MissingRelSponsored => "missing-rel-sponsored",
            Rule::WeakDisclosure => "weak-disclosure",
        }
    }

    /// The severity a finding of this rule has (for a rule of the rules data, the severity it
    /// defines; `warning` for an id no loaded rules data defines).
    pub fn severity(self) -> Severity {
        match self {
            Rule::StatementMissing(_) => {
                self.definition().map_or(Severity::Warning, |d| d.severity)
            }
            Rule::MissingRelSponsored | Rule::WeakDisclosure => Severity::Notice,
            _ => Severity::Error,
        }
    }

    /// One sentence on what the rule checks.
    pub fn description(self) -> &'static str {
        match self {
            Rule::Undisclosed => {
                "An affiliate or paid link appears on a page with no disclosure at all."
            }
            Rule::DisclosureAfterLink => {
                "An affiliate link comes before the first visible disclosure in reading order."
            }
            Rule::HiddenDisclosure => {
                "The page's only disclosure is hidden from readers (display:none, hidden, screen-reader-only class)."
            }
            Rule::DisclosureLinkOnly => {
                "The page only links to a disclosure page (\"Affiliate disclosure\") instead of stating it."
            }
            Rule::MonetizationScriptUndisclosed => {
                "The page loads a script that turns ordinary links into affiliate links, and discloses nothing."
            }
            Rule::StatementMissing(_) => self.definition().map_or(
                "Links of a program without the statement the program requires.",
                |d| d.description.as_str(),
            ),
            Rule::MissingRelSponsored => {
                "An affiliate link without rel=\"sponsored\" (search-engine guidance, not a disclosure rule)."
            }
            Rule::WeakDisclosure => {
                "The disclosure only labels links as affiliate links without saying the site earns money from them."
            }
        }
    }

    /// Finds a rule by id: a built-in rule, or one the rules data loaded so far defines.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id).or_else(|| {
            DEFINED
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .keys()
                .find(|k| k.as_str() == id)
                .map(|&k| Rule::StatementMissing(k))
        })
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Rule {
    /// A rule by its id: a built-in rule, or one the loaded rules data defines (the crawl's
    /// journal reads findings back this way).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        Rule::from_id(&id).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown rule `{id}`; are the same rules loaded?"))
        })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One violation: a row of the CSV report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What the report shows as the page.
    pub page_url: String,
    /// The rule broken.
    pub rule: Rule,
    /// Its severity.
    pub severity: Severity,
    /// The absolute link URL (or the script URL for page-level rules; may be empty).
    pub link_url: String,
    /// The network (or script product) name.
    pub network: String,
    /// The link text.
    pub link_text: String,
    /// 1-based source line of the link or script.
    pub line: u32,
    /// The nearest disclosure text, at most [`EXCERPT_CHARS`] characters.
    pub disclosure_excerpt: String,
    /// Strength of the disclosure in `disclosure_excerpt`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosure_strength: Option<Strength>,
    /// The wording rule that recognised that disclosure (`en/self-earns-money`, `label/block` …).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub disclosure_rule: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// How an affiliate link stands: compliant or the rule it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkStatus {
    /// A visible disclosure comes before it.
    Compliant,
    /// It breaks this rule.
    Violation(Rule),
}

impl fmt::Display for LinkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkStatus::Compliant => f.write_str("compliant"),
            LinkStatus::Violation(rule) => f.write_str(rule.id()),
        }
    }
}

/// An affiliate link found on a page, compliant or not (a row of `--inventory`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AffiliateLink {
    /// The absolute URL.
    pub link_url: String,
    /// Network name (`cloaked`, `sponsored` for those kinds).
    pub network: String,
    /// The rule id that classified it.
    pub network_rule: String,
    /// The merchant URL the link carries, when the network puts it in the query.
    pub destination: Option<String>,
    /// Link text.
    pub link_text: String,
    /// 1-based source line.
    pub line: u32,
    /// Whether its `rel` contains `sponsored`.
    pub rel_sponsored: bool,
    /// Compliant or the rule it breaks.
    pub status: LinkStatus,
    /// The disclosure the status was decided on.
    pub disclosure_excerpt: String,
    /// Strength of the disclosure before the link, when compliant.
    pub disclosure_strength: Option<Strength>,
    /// The wording rule of the disclosure the status was decided on (`en/self-earns-money`,
    /// `label/link`, `label/legend` …); empty when there is none.
    pub disclosure_rule: String,
}

/// Everything the audit found on one page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageReport {
    /// What the report shows as the page.
    pub page_url: String,
    /// Violations, in reading order (page-level ones last).
    pub findings: Vec<Finding>,
    /// Every affiliate link, in reading order.
    pub links: Vec<AffiliateLink>,
}

/// Options that change what the audit reports.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Report notice-level rules (`missing-rel-sponsored`, `weak-disclosure`).
    pub notices: bool,
    /// The site shows a disclosure that the HTML does not carry (`[site] disclosure` in
    /// `affcheck.toml`): it counts as a visible disclosure before every link.
    pub site_disclosure: Option<SiteDisclosure>,
    /// The site's own names from the config (`[site] names`), in addition to those each page
    /// states: a sentence with one of them as the earner discloses.
    pub site_names: SiteNames,
}

/// A site-wide disclosure declared in the config, graded by the wording model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteDisclosure {
    /// The ids of the required statements (`[[required_statement]]`) its wording makes
    /// (`amazon-associates` for "As an Amazon Associate I earn from qualifying purchases").
    pub statements: std::collections::BTreeSet<String>,
    /// How clearly it discloses.
    pub strength: Strength,
}

impl Default for SiteDisclosure {
    fn default() -> Self {
        SiteDisclosure {
            statements: Default::default(),
            strength: Strength::Explicit,
        }
    }
}

impl SiteDisclosure {
    /// Grades a site-wide disclosure text with the wording model; `None` when the model does not
    /// read it as a disclosure at all (a statement or a label).
    pub fn grade(text: &str, rules: &Ruleset) -> Option<SiteDisclosure> {
        let phrases = rules.phrases();
        let matches = phrases.find_statements(text);
        let strength = matches.iter().map(|m| m.strength).max();
        let strength = strength.or_else(|| phrases.is_label(text).then_some(Strength::Label))?;
        Some(SiteDisclosure {
            statements: matches.iter().flat_map(|m| m.statements.clone()).collect(),
            strength,
        })
    }
}

/// The excerpt shown for a site-wide disclosure from the config.
pub const SITE_DISCLOSURE_EXCERPT: &str = "(site-wide disclosure from affcheck.toml)";

/// What kind of disclosure a piece of the page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Visible wording: counts.
    Counted,
    /// Disclosure wording readers cannot see.
    Hidden,
    /// A link whose whole text names a disclosure elsewhere.
    LinkOnly,
}

/// Which links a disclosure speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Every link after it.
    Page,
    /// Links that carry this marker, wherever they stand (a legend: "* affiliate link").
    Marker(char),
}

#[derive(Debug, Clone)]
struct Disclosure {
    kind: Kind,
    scope: Scope,
    order: u32,
    excerpt: String,
    strength: Strength,
    /// Ids of the required statements its wording makes.
    statements: Vec<String>,
    rule: String,
}

/// Audits a parsed page.
pub fn audit(page: &Page, rules: &Ruleset, opts: &AuditOptions) -> PageReport {
    audit_resolved(page, rules, opts, &|_| None)
}

/// Audits a parsed page, classifying same-site links by where they redirect.
///
/// `redirect_of` answers, for a link's absolute URL, the off-site URL the server redirects it to when
/// that is known (the crawler requests cloaked links without following the redirect). A link with a
/// known target is affiliate exactly when its target is (or when it is `rel="sponsored"`), so a
/// `/go/` link to a plain shop page is not flagged; links without an answer are classified from
/// their own URL.
pub fn audit_resolved(
    page: &Page,
    rules: &Ruleset,
    opts: &AuditOptions,
    redirect_of: &dyn Fn(&Url) -> Option<Url>,
) -> PageReport {
    let mut names = page.site_names.clone();
    names.extend(&opts.site_names);
    let mut disclosures = disclosures(page, rules, &names);
    if let Some(site) = &opts.site_disclosure {
        disclosures.insert(
            0,
            Disclosure {
                kind: Kind::Counted,
                scope: Scope::Page,
                order: 0,
                excerpt: SITE_DISCLOSURE_EXCERPT.into(),
                strength: site.strength,
                statements: site.statements.iter().cloned().collect(),
                rule: "config/site-disclosure".into(),
            },
        );
    }
    let counted = || {
        disclosures
            .iter()
            .filter(|d| d.kind == Kind::Counted && d.scope == Scope::Page)
    };
    let mut positions: Option<Vec<Option<LinkPosition>>> = None;
    let mut report = PageReport {
        page_url: page.display.clone(),
        findings: Vec::new(),
        links: Vec::new(),
    };
    // Per required statement, in the order first met: the first link that requires it.
    let mut requiring: Vec<(String, String, String, u32)> = Vec::new();
    for (index, link) in page.links.iter().enumerate() {
        let Some(url) = &link.url else { continue };
        if !matches!(url.scheme(), "http" | "https" | "file") {
            continue;
        }
        let redirect = if url.host_str().is_some() {
            redirect_of(url)
        } else {
            None
        };
        let class = match &redirect {
            Some(target) => rules
                .classify_link(target, page.base.as_ref(), link.is_sponsored())
                .map(|c| LinkClass {
                    destination: Some(target.to_string()),
                    ..c
                }),
            None => rules.classify_link(url, page.base.as_ref(), link.is_sponsored()),
        };
        let Some(class) = class else {
            continue;
        };
        let link_url = url.to_string();
        let position = positions
            .get_or_insert_with(|| link_positions(page))
            .get(index)
            .copied()
            .flatten();
        let at_link = label_at_link(page, link, position, rules, &names, &disclosures);
        // The strongest disclosure that speaks for this link, the nearest among equals.
        let rank = |d: &Disclosure| (d.strength, d.order);
        let before = match (
            counted()
                .filter(|d| d.order < link.order)
                .max_by_key(|d| rank(d)),
            at_link,
        ) {
            (Some(d), Some(l)) if rank(d) >= rank(&l) => Some(d.clone()),
            (Some(d), None) => Some(d.clone()),
            (_, l) => l,
        };
        let (status, deciding) = if let Some(d) = before.as_ref() {
            (LinkStatus::Compliant, Some(d))
        } else if let Some(d) = counted().next() {
            (LinkStatus::Violation(Rule::DisclosureAfterLink), Some(d))
        } else if let Some(d) = disclosures.iter().find(|d| d.kind == Kind::Hidden) {
            (LinkStatus::Violation(Rule::HiddenDisclosure), Some(d))
        } else if let Some(d) = disclosures.iter().find(|d| d.kind == Kind::LinkOnly) {
            (LinkStatus::Violation(Rule::DisclosureLinkOnly), Some(d))
        } else {
            (LinkStatus::Violation(Rule::Undisclosed), None)
        };
        let excerpt = deciding.map(|d| d.excerpt.clone()).unwrap_or_default();
        let rule_of = deciding.map(|d| d.rule.clone()).unwrap_or_default();
        let strength_of = deciding.map(|d| d.strength);
        let strength = (status == LinkStatus::Compliant)
            .then_some(strength_of)
            .flatten();
        let finding = |rule: Rule, message: String| Finding {
            page_url: page.display.clone(),
            rule,
            severity: rule.severity(),
            link_url: link_url.clone(),
            network: class.network.clone(),
            link_text: link.text.clone(),
            line: link.line,
            disclosure_excerpt: excerpt.clone(),
            disclosure_strength: strength_of,
            disclosure_rule: rule_of.clone(),
            message,
        };
        if let LinkStatus::Violation(rule) = status {
            report.findings.push(finding(
                rule,
                link_message(rule, &class, redirect.is_some(), link.line, &excerpt),
            ));
        }
        if opts.notices {
            if !link.is_sponsored() {
                report.findings.push(finding(
                    Rule::MissingRelSponsored,
                    format!(
                        "Affiliate link ({}) has no rel=\"sponsored\"; search engines ask for it on paid links.",
                        class.network
                    ),
                ));
            }
            if strength == Some(Strength::Label) {
                report.findings.push(finding(
                    Rule::WeakDisclosure,
                    if rule_of.contains("support") {
                        format!("The disclosure before this link (\"{excerpt}\") only asks readers to support the site; the FTC finds such wording unclear and asks for a plain statement that the site earns money from the links (\"We earn a commission if you buy through these links\").")
                    } else {
                        format!("The disclosure before this link (\"{excerpt}\") only labels links as affiliate or paid links; the FTC asks for a plain statement that the site earns money from them (\"We earn a commission if you buy through these links\").")
                    },
                ));
            }
        }
        if let Some(id) = &class.required_statement
            && !requiring.iter().any(|(known, ..)| known == id)
        {
            requiring.push((id.clone(), link_url.clone(), link.text.clone(), link.line));
        }
        report.links.push(AffiliateLink {
            link_url,
            network: class.network.clone(),
            network_rule: class.rule_id.clone(),
            destination: class.destination.clone(),
            link_text: link.text.clone(),
            line: link.line,
            rel_sponsored: link.is_sponsored(),
            status,
            disclosure_excerpt: excerpt,
            disclosure_strength: strength,
            disclosure_rule: rule_of,
        });
    }
    if counted().next().is_none() {
        for script in &page.scripts {
            report.findings.push(Finding {
                page_url: page.display.clone(),
                rule: Rule::MonetizationScriptUndisclosed,
                severity: Rule::MonetizationScriptUndisclosed.severity(),
                link_url: script.url.clone(),
                network: script.name.clone(),
                link_text: String::new(),
                line: script.line,
                disclosure_excerpt: String::new(),
                disclosure_strength: None,
                disclosure_rule: String::new(),
                message: format!(
                    "The page loads {} (line {}), which turns ordinary links into affiliate links, but has no visible disclosure; add one above the first link.",
                    script.name, script.line
                ),
            });
        }
    }
    for (id, link_url, link_text, line) in requiring {
        if counted().any(|d| d.statements.contains(&id)) {
            continue;
        }
        let Some(statement) = rules.required_statement(&id) else {
            continue;
        };
        let first = counted().next();
        report.findings.push(Finding {
            page_url: page.display.clone(),
            rule: statement.rule,
            severity: statement.severity,
            link_url,
            network: statement.program.clone(),
            link_text,
            line,
            disclosure_excerpt: first.map(|d| d.excerpt.clone()).unwrap_or_default(),
            disclosure_strength: first.map(|d| d.strength),
            disclosure_rule: first.map(|d| d.rule.clone()).unwrap_or_default(),
            message: statement.message.clone(),
        });
    }
    report
}

fn link_message(
    rule: Rule,
    class: &LinkClass,
    redirects: bool,
    line: u32,
    excerpt: &str,
) -> String {
    let what = match &class.destination {
        Some(dest) if redirects => format!(
            "Cloaked affiliate link on line {line} (redirects to {dest}, {})",
            class.network
        ),
        Some(dest) => format!(
            "Affiliate link ({}, to {dest}) on line {line}",
            class.network
        ),
        None => format!("Affiliate link ({}) on line {line}", class.network),
    };
    match rule {
        Rule::DisclosureAfterLink => format!(
            "{what} comes before the first visible disclosure (\"{}\"); move the disclosure above the link.",
            excerpt
        ),
        Rule::HiddenDisclosure => format!(
            "{what}: the page's only disclosure is hidden from readers; show it as visible text above the link."
        ),
        Rule::DisclosureLinkOnly => format!(
            "{what}: the page only links to a disclosure (\"{excerpt}\"); state in text above the link that the site earns money from it."
        ),
        _ => format!(
            "{what} has no disclosure; add a visible statement such as \"We earn a commission if you buy through links on this page\" above it."
        ),
    }
}

/// Every disclosure on the page, in reading order: statements and labels in its text blocks
/// (with a legend's marker scope), and links that only point to a disclosure.
fn disclosures(page: &Page, rules: &Ruleset, names: &SiteNames) -> Vec<Disclosure> {
    let phrases = rules.phrases();
    let mut out = Vec::new();
    for block in &page.blocks {
        let kind = match block.visibility {
            Visibility::Visible => Kind::Counted,
            Visibility::Hidden => Kind::Hidden,
        };
        // `legend_text`: the sentence with what leads up to it ("* Links marked … ").
        let mut found = |text: &str,
                         legend_text: &str,
                         order: u32,
                         strength: Strength,
                         statements: Vec<String>,
                         rule: String| {
            let legend = phrases.markers_in(legend_text);
            let d = Disclosure {
                kind,
                scope: Scope::Page,
                order,
                excerpt: excerpt(text),
                strength,
                statements,
                rule,
            };
            for marker in legend {
                out.push(Disclosure {
                    scope: Scope::Marker(marker),
                    rule: "label/legend".into(),
                    strength: Strength::Label,
                    ..d.clone()
                });
            }
            out.push(d);
        };
        for m in phrases.find_statements_with(&block.text, names) {
            let lead = block.text[..m.sentence.start]
                .char_indices()
                .rfind(|&(_, c)| matches!(c, '.' | '!' | '?' | '\n' | '。'))
                .map_or(0, |(at, c)| at + c.len_utf8());
            found(
                &block.text[m.sentence.clone()],
                &block.text[lead..m.sentence.end],
                block.order_at(m.sentence.start),
                m.strength,
                m.statements,
                m.rule,
            );
        }
        // A stand-alone label counts only as visible text of its own, not as a link ("Sponsored" in
        // a menu is a category, not a disclosure).
        if !block.all_link_text() && phrases.is_label(&block.text) {
            found(
                &block.text,
                &block.text,
                block.order_at(0),
                Strength::Label,
                Vec::new(),
                "label/block".into(),
            );
        }
    }
    for link in &page.links {
        if link.visibility == Visibility::Visible && phrases.is_link_label(&link.text) {
            out.push(Disclosure {
                kind: Kind::LinkOnly,
                scope: Scope::Page,
                order: link.order,
                excerpt: excerpt(&link.text),
                strength: Strength::Label,
                statements: Vec::new(),
                rule: "label/link-only".into(),
            });
        }
    }
    out.sort_by_key(|d| d.order);
    out
}

/// Where a link's text stands in its block: block index and byte range of the text.
#[derive(Debug, Clone, Copy)]
struct LinkPosition {
    block: usize,
    start: usize,
    end: usize,
}

/// The position of every link's text in the blocks, by link index (`None` for links without
/// text in a block, such as image links).
fn link_positions(page: &Page) -> Vec<Option<LinkPosition>> {
    let mut out: Vec<Option<LinkPosition>> = vec![None; page.links.len()];
    for (b, block) in page.blocks.iter().enumerate() {
        for (k, seg) in block.segments.iter().enumerate() {
            let Some(i) = seg.link else { continue };
            let end = block.segments[k + 1..]
                .iter()
                .find(|s| s.link != Some(i))
                .map_or(block.text.len(), |s| s.offset);
            match &mut out[i] {
                Some(p) if p.block == b => p.end = p.end.max(end),
                Some(_) => {}
                slot @ None => {
                    *slot = Some(LinkPosition {
                        block: b,
                        start: seg.offset,
                        end,
                    })
                }
            }
        }
    }
    out
}

/// A label that discloses this one link: "(paid link)" in or right beside it, or a marker that a
/// visible legend explains.
fn label_at_link(
    page: &Page,
    link: &crate::page::Link,
    position: Option<LinkPosition>,
    rules: &Ruleset,
    names: &SiteNames,
    disclosures: &[Disclosure],
) -> Option<Disclosure> {
    if link.visibility != Visibility::Visible {
        return None;
    }
    let phrases = rules.phrases();
    let (before, after) = match position {
        Some(p) if page.blocks[p.block].visibility == Visibility::Visible => {
            let text = &page.blocks[p.block].text;
            (&text[..p.start], &text[p.end..])
        }
        _ => ("", ""),
    };
    let label = |excerpt_text: &str, rule: &str| Disclosure {
        kind: Kind::Counted,
        scope: Scope::Page,
        order: link.order,
        excerpt: excerpt(excerpt_text),
        strength: Strength::Label,
        statements: Vec::new(),
        rule: rule.into(),
    };
    if let Some(text) = phrases.label_at_link(&link.text, before, after) {
        return Some(label(text, "label/link"));
    }
    if let Some((m, text)) = phrases.statement_at_link(after, names) {
        return Some(Disclosure {
            strength: m.strength,
            statements: m.statements,
            rule: m.rule,
            ..label(text, "")
        });
    }
    let marker = phrases.link_marker(&link.text, after)?;
    disclosures
        .iter()
        .find(|d| d.kind == Kind::Counted && d.scope == Scope::Marker(marker))
        .map(|legend| Disclosure {
            order: link.order,
            ..legend.clone()
        })
}

/// Cuts text to [`EXCERPT_CHARS`] characters on a character boundary, marking the cut with `…`.
fn excerpt(text: &str) -> String {
    let text = text.replace('\n', " ");
    if text.chars().count() <= EXCERPT_CHARS {
        return text;
    }
    let mut out: String = text.chars().take(EXCERPT_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Document;

    fn run(html: &str) -> PageReport {
        run_with(html, AuditOptions::default())
    }

    fn run_with(html: &str, opts: AuditOptions) -> PageReport {
        let rules = Ruleset::defaults().unwrap();
        let doc = Document {
            display: "https://site.example/p.html".into(),
            base: Some(url::Url::parse("https://site.example/p.html").unwrap()),
            bytes: html.as_bytes().to_vec(),
            content_type: None,
        };
        audit(&crate::page::parse(&doc, &rules), &rules, &opts)
    }

    #[test]
    fn a_site_wide_disclosure_from_the_config_counts_before_every_link() {
        let html = "<p><a href=\"https://www.amazon.com/dp/B0X?tag=x-20\">Buy</a></p>";
        assert_eq!(
            rules_of(&run(html)),
            ["undisclosed", "amazon-statement-missing"]
        );
        let site = |statements: &[&str]| AuditOptions {
            site_disclosure: Some(SiteDisclosure {
                statements: statements.iter().map(|s| s.to_string()).collect(),
                strength: Strength::Explicit,
            }),
            ..Default::default()
        };
        let r = run_with(html, site(&[]));
        assert_eq!(rules_of(&r), ["amazon-statement-missing"]);
        assert_eq!(r.links[0].disclosure_excerpt, SITE_DISCLOSURE_EXCERPT);
        let r = run_with(html, site(&["some-other-program"]));
        assert_eq!(rules_of(&r), ["amazon-statement-missing"]);
        assert!(
            run_with(html, site(&["amazon-associates"]))
                .findings
                .is_empty()
        );
    }

    fn rules_of(r: &PageReport) -> Vec<&'static str> {
        r.findings.iter().map(|f| f.rule.id()).collect()
    }

    const AMZ: &str = "https://www.amazon.com/dp/B01?tag=site-20";

    #[test]
    fn disclosure_before_link_is_compliant() {
        let r = run(&format!(
            "<p>We may earn a commission from links on this page.</p><p><a href=\"{AMZ}\">Buy</a></p>"
        ));
        assert!(
            r.findings.iter().all(|f| f.severity != Severity::Error),
            "{:?}",
            r.findings
        );
        assert_eq!(r.links.len(), 1);
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
    }

    #[test]
    fn statement_in_same_block_before_link_counts() {
        let r = run(&format!(
            "<p>We earn a commission if you buy the <a href=\"{AMZ}\">tent</a>.</p>"
        ));
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
    }

    #[test]
    fn disclosure_after_link() {
        let r = run(&format!(
            "<p><a href=\"{AMZ}\">Buy</a></p><footer><p>We earn a commission from these links.</p></footer>"
        ));
        assert_eq!(rules_of(&r)[0], "disclosure-after-link");
        assert_eq!(
            r.findings[0].disclosure_excerpt,
            "We earn a commission from these links."
        );
        assert_eq!(r.findings[0].link_url, AMZ);
    }

    #[test]
    fn hidden_then_link_only_then_nothing() {
        let hidden = run(&format!(
            "<p style=\"display:none\">We earn a commission.</p><a href=\"{AMZ}\">Buy</a>"
        ));
        assert_eq!(rules_of(&hidden)[0], "hidden-disclosure");
        let link_only = run(&format!(
            "<a href=\"/disclosure/\">Affiliate disclosure</a><a href=\"{AMZ}\">Buy</a>"
        ));
        assert_eq!(rules_of(&link_only)[0], "disclosure-link-only");
        assert_eq!(
            link_only.findings[0].disclosure_excerpt,
            "Affiliate disclosure"
        );
        let none = run(&format!("<a href=\"{AMZ}\">Buy</a>"));
        assert_eq!(rules_of(&none)[0], "undisclosed");
    }

    #[test]
    fn statement_containing_a_link_counts() {
        let r = run(&format!(
            "<p>We may earn a commission (<a href=\"/disclosure/\">affiliate disclosure</a>).</p><a href=\"{AMZ}\">Buy</a>"
        ));
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
    }

    #[test]
    fn menu_link_labelled_sponsored_is_not_a_disclosure() {
        let r = run(&format!(
            "<ul><li><a href=\"/sponsored/\">Sponsored</a></li></ul><p><a href=\"{AMZ}\">Buy</a></p>"
        ));
        assert_eq!(rules_of(&r)[0], "undisclosed");
    }

    #[test]
    fn visible_label_block_counts() {
        let r = run(&format!(
            "<p>Anzeige</p><p><a href=\"{AMZ}\">Kaufen</a></p>"
        ));
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
        assert_eq!(r.links[0].disclosure_strength, Some(Strength::Label));
    }

    #[test]
    fn non_affiliate_links_are_ignored() {
        let r = run(
            "<a href=\"https://www.amazon.com/dp/B01\">no tag</a><a href=\"https://blog.example/?tag=x\">x</a><a href=\"mailto:a@b.c\">m</a>",
        );
        assert!(r.links.is_empty());
        assert!(r.findings.is_empty());
    }

    #[test]
    fn rel_sponsored_is_a_paid_link() {
        let r = run("<a href=\"https://brand.example/\" rel=\"sponsored\">Brand</a>");
        assert_eq!(r.links[0].network, "sponsored");
        assert_eq!(rules_of(&r)[0], "undisclosed");
    }

    #[test]
    fn cloaked_same_site_link() {
        let r = run(
            "<a href=\"/go/tent/\">Tent</a><a href=\"https://other.example/go/tent/\">Other</a>",
        );
        assert_eq!(r.links.len(), 1);
        assert_eq!(r.links[0].network, "cloaked");
        assert_eq!(r.links[0].link_url, "https://site.example/go/tent/");
    }

    #[test]
    fn monetization_script_without_disclosure() {
        let r = run(
            "<script src=\"https://s.skimresources.com/js/1X2.skimlinks.js\"></script><a href=\"https://shop.example/\">x</a>",
        );
        assert_eq!(rules_of(&r), vec!["monetization-script-undisclosed"]);
        let ok = run(
            "<script src=\"https://s.skimresources.com/js/1X2.skimlinks.js\"></script><p>We earn a commission on purchases from these links.</p>",
        );
        assert!(ok.findings.is_empty());
    }

    #[test]
    fn amazon_statement_warning() {
        let r = run(&format!(
            "<p>We earn a commission from links.</p><a href=\"{AMZ}\">Buy</a>"
        ));
        assert_eq!(rules_of(&r), vec!["amazon-statement-missing"]);
        assert_eq!(r.findings[0].severity, Severity::Warning);
        let ok = run(&format!(
            "<p>As an Amazon Associate I earn from qualifying purchases.</p><a href=\"{AMZ}\">Buy</a>"
        ));
        assert!(ok.findings.is_empty(), "{:?}", ok.findings);
    }

    #[test]
    fn notices_only_when_asked() {
        let html = format!("<p>This post contains affiliate links.</p><a href=\"{AMZ}\">Buy</a>");
        assert!(!rules_of(&run(&html)).contains(&"missing-rel-sponsored"));
        let r = run_with(
            &html,
            AuditOptions {
                notices: true,
                ..Default::default()
            },
        );
        assert!(rules_of(&r).contains(&"missing-rel-sponsored"));
        assert!(rules_of(&r).contains(&"weak-disclosure"));
    }

    const AMZ2: &str = "https://www.amazon.com/dp/B02?tag=site-20";

    #[test]
    fn a_label_at_one_link_discloses_that_link_only() {
        let r = run(&format!(
            "<p>Our picks: <a href=\"{AMZ}\">Tent</a> (paid link) and <a href=\"{AMZ2}\">Stove</a>.</p>"
        ));
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
        assert_eq!(r.links[0].disclosure_strength, Some(Strength::Label));
        assert_eq!(r.links[0].disclosure_rule, "label/link");
        assert_eq!(
            r.links[1].status,
            LinkStatus::Violation(Rule::Undisclosed),
            "the label of the tent link says nothing about the stove link"
        );
    }

    #[test]
    fn a_label_block_discloses_the_links_after_it() {
        let r = run(&format!(
            "<p><a href=\"{AMZ}\">Tent</a></p><p>(paid link)</p><p><a href=\"{AMZ2}\">Stove</a></p>"
        ));
        assert_eq!(
            r.links[0].status,
            LinkStatus::Violation(Rule::DisclosureAfterLink)
        );
        assert_eq!(r.links[1].status, LinkStatus::Compliant);
        assert_eq!(r.links[1].disclosure_rule, "label/block");
    }

    #[test]
    fn a_legend_anywhere_discloses_the_marked_links() {
        let r = run(&format!(
            "<p><a href=\"{AMZ}\">Zelt*</a> und <a href=\"{AMZ2}\">Kocher</a></p><footer><p>* Affiliate-Link</p></footer>"
        ));
        assert_eq!(r.links[0].status, LinkStatus::Compliant);
        assert_eq!(r.links[0].disclosure_rule, "label/legend");
        assert_eq!(
            r.links[1].status,
            LinkStatus::Violation(Rule::DisclosureAfterLink)
        );
        // A marker without a legend discloses nothing.
        let bare = run(&format!("<p><a href=\"{AMZ}\">Zelt*</a></p>"));
        assert_eq!(
            bare.links[0].status,
            LinkStatus::Violation(Rule::Undisclosed)
        );
    }

    #[test]
    fn the_strongest_disclosure_before_a_link_decides_its_strength() {
        let r = run(&format!(
            "<p>This post contains affiliate links. If you buy something, I get a small commission.</p><p><a href=\"{AMZ}\">Tent</a> (affiliate)</p>"
        ));
        assert_eq!(r.links[0].disclosure_strength, Some(Strength::Explicit));
        assert!(
            r.links[0].disclosure_rule.starts_with("en/"),
            "{:?}",
            r.links[0]
        );
    }

    #[test]
    fn the_sites_own_name_as_earner_discloses() {
        let banner = "<p>Trail Notes may earn a commission when you buy through links.</p>";
        let link = format!("<p><a href=\"{AMZ}\">Tent</a></p>");
        for head in [
            "<meta property=\"og:site_name\" content=\"Trail Notes\">",
            "<title>Best tents of the year | Trail Notes</title>",
            "<script type=\"application/ld+json\">{\"@type\":\"WebSite\",\"name\":\"Trail Notes\"}</script>",
        ] {
            let r = run(&format!("<head>{head}</head><body>{banner}{link}</body>"));
            assert_eq!(r.links[0].status, LinkStatus::Compliant, "{head}");
            assert_eq!(r.links[0].disclosure_rule, "en/site-name-earns-money");
        }
        let names = |n: &str| {
            let mut s = SiteNames::new();
            s.add(n);
            AuditOptions {
                site_names: s,
                ..Default::default()
            }
        };
        let r = run_with(&format!("{banner}{link}"), names("trail-notes"));
        assert_eq!(r.links[0].disclosure_rule, "en/site-name-earns-money");
    }

    #[test]
    fn someone_elses_name_as_earner_needs_a_tie_to_this_page() {
        let link = format!("<p><a href=\"{AMZ}\">Tent</a></p>");
        let explained = run(&format!(
            "<p>Wirecutter earns a commission on many product recommendations.</p>{link}"
        ));
        assert_eq!(
            explained.links[0].status,
            LinkStatus::Violation(Rule::Undisclosed)
        );
        let tied = run(&format!(
            "<p>Wirecutter earns a commission on products bought through links on this page.</p>{link}"
        ));
        assert_eq!(tied.links[0].status, LinkStatus::Compliant);
        let merchant = run(&format!(
            "<p>Amazon earns a fee on every sale made through these links.</p>{link}"
        ));
        assert_eq!(
            merchant.links[0].status,
            LinkStatus::Violation(Rule::Undisclosed)
        );
    }

    #[test]
    fn a_site_disclosure_must_be_a_disclosure() {
        let rules = Ruleset::defaults().unwrap();
        assert!(SiteDisclosure::grade("Hello world", &rules).is_none());
        let d = SiteDisclosure::grade("Anzeige", &rules).unwrap();
        assert_eq!(d.strength, Strength::Label);
        let d = SiteDisclosure::grade(
            "As an Amazon Associate we earn from qualifying purchases.",
            &rules,
        )
        .unwrap();
        assert_eq!(
            d.statements.iter().collect::<Vec<_>>(),
            ["amazon-associates"]
        );
        assert_eq!(d.strength, Strength::Explicit);
    }

    #[test]
    fn sentences_after_a_full_width_stop_are_read() {
        let r = run(&format!(
            "<p>メーカーの案件ではありません。ただし当サイトは紹介料を受け取ります。</p><p><a href=\"{AMZ}\">商品</a></p>"
        ));
        assert_eq!(r.links.len(), 1);
    }

    #[test]
    fn excerpt_is_cut_on_char_boundary() {
        let long = "é".repeat(300);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS);
        assert!(e.ends_with('…'));
    }
}
