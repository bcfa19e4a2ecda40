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

use serde::Serialize;
use url::Url;

use crate::page::{Page, Visibility};
use crate::rules::{LinkClass, Ruleset, Strength};

/// Longest disclosure excerpt in a report, in characters.
pub const EXCERPT_CHARS: usize = 120;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

/// A rule a finding breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
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
    /// Amazon links without the Amazon Associates statement.
    AmazonStatementMissing,
    /// An affiliate link without `rel="sponsored"`.
    MissingRelSponsored,
    /// The disclosure before a link only labels it ("contains affiliate links") without saying the
    /// site earns money from it.
    WeakDisclosure,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; 8] = [
        Rule::Undisclosed,
        Rule::DisclosureAfterLink,
        Rule::HiddenDisclosure,
        Rule::DisclosureLinkOnly,
        Rule::MonetizationScriptUndisclosed,
        Rule::AmazonStatementMissing,
        Rule::MissingRelSponsored,
        Rule::WeakDisclosure,
    ];

    /// The rule id used in reports.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Undisclosed => "undisclosed",
            Rule::DisclosureAfterLink => "disclosure-after-link",
            Rule::HiddenDisclosure => "hidden-disclosure",
            Rule::DisclosureLinkOnly => "disclosure-link-only",
            Rule::MonetizationScriptUndisclosed => "monetization-script-undisclosed",
            Rule::AmazonStatementMissing => "amazon-statement-missing",
            Rule::MissingRelSponsored => "missing-rel-sponsored",
            Rule::WeakDisclosure => "weak-disclosure",
        }
    }

    /// The severity a finding of this rule has.
    pub fn severity(self) -> Severity {
        match self {
            Rule::AmazonStatementMissing => Severity::Warning,
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
            Rule::AmazonStatementMissing => {
                "Amazon links without the Amazon Associates statement the program requires."
            }
            Rule::MissingRelSponsored => {
                "An affiliate link without rel=\"sponsored\" (search-engine guidance, not a disclosure rule)."
            }
            Rule::WeakDisclosure => {
                "The disclosure only labels links as affiliate links without saying the site earns money from them."
            }
        }
    }

    /// Finds a rule by id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One violation: a row of the CSV report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// What is wrong and what to do.
    pub message: String,
}

/// How an affiliate link stands: compliant or the rule it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
}

/// Everything the audit found on one page.
#[derive(Debug, Clone)]
pub struct PageReport {
    /// What the report shows as the page.
    pub page_url: String,
    /// Violations, in reading order (page-level ones last).
    pub findings: Vec<Finding>,
    /// Every affiliate link, in reading order.
    pub links: Vec<AffiliateLink>,
}

/// Options that change what the audit reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditOptions {
    /// Report notice-level rules (`missing-rel-sponsored`, `weak-disclosure`).
    pub notices: bool,
    /// The site shows a disclosure that the HTML does not carry (`[site] disclosure` in
    /// `affcheck.toml`): it counts as a visible disclosure before every link.
    pub site_disclosure: Option<SiteDisclosure>,
}

/// A site-wide disclosure declared in the config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteDisclosure {
    /// Whether its wording includes the Amazon Associates statement.
    pub amazon: bool,
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

#[derive(Debug, Clone)]
struct Disclosure {
    kind: Kind,
    order: u32,
    excerpt: String,
    strength: Strength,
    amazon: bool,
}

/// Audits a parsed page.
pub fn audit(page: &Page, rules: &Ruleset, opts: AuditOptions) -> PageReport {
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
    opts: AuditOptions,
    redirect_of: &dyn Fn(&Url) -> Option<Url>,
) -> PageReport {
    let mut disclosures = disclosures(page, rules);
    if let Some(site) = opts.site_disclosure {
        disclosures.insert(
            0,
            Disclosure {
                kind: Kind::Counted,
                order: 0,
                excerpt: SITE_DISCLOSURE_EXCERPT.into(),
                strength: Strength::Explicit,
                amazon: site.amazon,
            },
        );
    }
    let counted = || disclosures.iter().filter(|d| d.kind == Kind::Counted);
    let mut report = PageReport {
        page_url: page.display.clone(),
        findings: Vec::new(),
        links: Vec::new(),
    };
    let mut first_amazon: Option<(String, String, u32)> = None;
    for link in &page.links {
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
        let before = counted().rfind(|d| d.order < link.order);
        let (status, excerpt, strength) = if let Some(d) = before {
            (LinkStatus::Compliant, d.excerpt.clone(), Some(d.strength))
        } else if let Some(d) = counted().next() {
            (
                LinkStatus::Violation(Rule::DisclosureAfterLink),
                d.excerpt.clone(),
                None,
            )
        } else if let Some(d) = disclosures.iter().find(|d| d.kind == Kind::Hidden) {
            (
                LinkStatus::Violation(Rule::HiddenDisclosure),
                d.excerpt.clone(),
                None,
            )
        } else if let Some(d) = disclosures.iter().find(|d| d.kind == Kind::LinkOnly) {
            (
                LinkStatus::Violation(Rule::DisclosureLinkOnly),
                d.excerpt.clone(),
                None,
            )
        } else {
            (
                LinkStatus::Violation(Rule::Undisclosed),
                String::new(),
                None,
            )
        };
        let finding = |rule: Rule, message: String| Finding {
            page_url: page.display.clone(),
            rule,
            severity: rule.severity(),
            link_url: link_url.clone(),
            network: class.network.clone(),
            link_text: link.text.clone(),
            line: link.line,
            disclosure_excerpt: excerpt.clone(),
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
                    "The disclosure before this link only labels links as affiliate links; the FTC asks for a plain statement that the site earns money from them (\"We earn a commission if you buy through these links\").".to_string(),
                ));
            }
        }
        if class.amazon_statement && first_amazon.is_none() {
            first_amazon = Some((link_url.clone(), link.text.clone(), link.line));
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
                message: format!(
                    "The page loads {} (line {}), which turns ordinary links into affiliate links, but has no visible disclosure; add one above the first link.",
                    script.name, script.line
                ),
            });
        }
    }
    if let Some((link_url, link_text, line)) = first_amazon
        && !counted().any(|d| d.amazon)
    {
        report.findings.push(Finding {
            page_url: page.display.clone(),
            rule: Rule::AmazonStatementMissing,
            severity: Rule::AmazonStatementMissing.severity(),
            link_url,
            network: "Amazon Associates".into(),
            link_text,
            line,
            disclosure_excerpt: counted().next().map(|d| d.excerpt.clone()).unwrap_or_default(),
            message: "The page links to Amazon with an Associates tag but does not show the statement the program requires (\"As an Amazon Associate I earn from qualifying purchases\" or the marketplace's translation).".into(),
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

/// Every disclosure on the page, in reading order.
fn disclosures(page: &Page, rules: &Ruleset) -> Vec<Disclosure> {
    let phrases = rules.phrases();
    let mut out = Vec::new();
    for block in &page.blocks {
        let kind = match block.visibility {
            Visibility::Visible => Kind::Counted,
            Visibility::Hidden => Kind::Hidden,
        };
        for m in phrases.find_statements(&block.text) {
            out.push(Disclosure {
                kind,
                order: block.order_at(m.sentence.start),
                excerpt: excerpt(&block.text[m.sentence.clone()]),
                strength: m.strength,
                amazon: m.amazon,
            });
        }
        // A stand-alone label counts only as visible text of its own, not as a link ("Sponsored" in
        // a menu is a category, not a disclosure).
        if !block.all_link_text() && phrases.is_label(&block.text) {
            out.push(Disclosure {
                kind,
                order: block.order_at(0),
                excerpt: excerpt(&block.text),
                strength: Strength::Label,
                amazon: false,
            });
        }
    }
    for link in &page.links {
        if link.visibility == Visibility::Visible && phrases.is_link_label(&link.text) {
            out.push(Disclosure {
                kind: Kind::LinkOnly,
                order: link.order,
                excerpt: excerpt(&link.text),
                strength: Strength::Label,
                amazon: false,
            });
        }
    }
    out.sort_by_key(|d| d.order);
    out
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
        audit(&crate::page::parse(&doc, &rules), &rules, opts)
    }

    #[test]
    fn a_site_wide_disclosure_from_the_config_counts_before_every_link() {
        let html = "<p><a href=\"https://www.amazon.com/dp/B0X?tag=x-20\">Buy</a></p>";
        assert_eq!(
            rules_of(&run(html)),
            ["undisclosed", "amazon-statement-missing"]
        );
        let site = |amazon| AuditOptions {
            site_disclosure: Some(SiteDisclosure { amazon }),
            ..Default::default()
        };
        let r = run_with(html, site(false));
        assert_eq!(rules_of(&r), ["amazon-statement-missing"]);
        assert_eq!(r.links[0].disclosure_excerpt, SITE_DISCLOSURE_EXCERPT);
        assert!(run_with(html, site(true)).findings.is_empty());
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

    #[test]
    fn excerpt_is_cut_on_char_boundary() {
        let long = "é".repeat(300);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS);
        assert!(e.ends_with('…'));
    }
}
