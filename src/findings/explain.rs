//! Every decision behind one page's verdicts, for people: what `affcheck explain` shows after a
//! CI run fails. The verdicts are the audit's own ([`audit`](super::audit)); this adds the
//! disclosures the page has, where they are, and for each violation the near misses that did not
//! count and why.

use serde::Serialize;

use crate::page::{HiddenBy, Page, Visibility};
use crate::rules::{Miss, Ruleset, Strength};

use super::disclosures::{Disclosure, Kind, Scope, excerpt};
use super::verdict::{page_disclosures, site_names};
use super::{AuditOptions, Finding, LinkStatus, audit_resolved};

/// One page explained.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// What the report shows as the page.
    pub page_url: String,
    /// The page's declared language (`<html lang>`).
    pub lang: Option<String>,
    /// The names the page and the configuration give the site (lower-cased), which count as
    /// "we" in a disclosure ("Trail Notes earns a commission").
    pub site_names: Vec<String>,
    /// Monetization scripts (link-rewriting services) on the page.
    pub scripts: Vec<ScriptFact>,
    /// Statements a network requires of pages that carry its links, and whether the page makes
    /// them.
    pub required_statements: Vec<StatementFact>,
    /// Every disclosure the page has, counted or not, in reading order.
    pub disclosures: Vec<DisclosureFact>,
    /// Sentences that come close to a disclosure but do not count as one.
    pub near_misses: Vec<NearMissFact>,
    /// Every affiliate link, in reading order, with its verdict.
    pub links: Vec<LinkFact>,
    /// The findings the audit reports for the page.
    pub findings: Vec<Finding>,
}

/// A monetization script.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptFact {
    /// The service's name from the rules.
    pub name: String,
    /// Its `src`, or `inline` for an inline script.
    pub url: String,
    /// Source line.
    pub line: u32,
}

/// A required statement (such as Amazon's) that links on the page call for.
#[derive(Debug, Clone, Serialize)]
pub struct StatementFact {
    /// The statement's id in the rules.
    pub id: String,
    /// The program that requires it.
    pub program: String,
    /// Whether a visible disclosure on the page makes it.
    pub made: bool,
}

/// Whether and how a disclosure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DisclosureKind {
    /// Visible text: counts for the links after it.
    Visible,
    /// Text readers cannot see: counts for nothing.
    Hidden,
    /// Only a link to a disclosure elsewhere: counts for nothing.
    LinkOnly,
}

/// A disclosure found on the page (or declared for the whole site in the configuration).
#[derive(Debug, Clone, Serialize)]
pub struct DisclosureFact {
    /// Whether it counts.
    pub kind: DisclosureKind,
    /// What hides it, for a hidden one.
    pub hidden_by: Option<HiddenBy>,
    /// For a legend ("* affiliate link"): the marker of the links it speaks for.
    pub marker: Option<char>,
    /// Source line (0 when unknown, as for the configuration's site-wide notice).
    pub line: u32,
    /// Position in reading order.
    pub order: u32,
    /// Its text, shortened.
    pub excerpt: String,
    /// How clearly it discloses.
    pub strength: Strength,
    /// The wording form that recognised it.
    pub rule: String,
    /// The required statements its wording makes.
    pub statements: Vec<String>,
}

/// A sentence with all the words of a disclosure that still is not one.
#[derive(Debug, Clone, Serialize)]
pub struct NearMissFact {
    /// Source line.
    pub line: u32,
    /// Position in reading order.
    pub order: u32,
    /// The sentence, shortened.
    pub excerpt: String,
    /// The wording form it came closest to.
    pub rule: String,
    /// Why it does not count.
    pub miss: Miss,
    /// The same for people.
    pub why: String,
    /// Whether the sentence is also hidden from readers.
    pub hidden: bool,
}

/// The disclosure that decided a link's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Deciding {
    /// Its text, shortened.
    pub excerpt: String,
    /// Source line (0 when unknown).
    pub line: u32,
    /// How clearly it discloses.
    pub strength: Option<Strength>,
    /// The wording form that recognised it.
    pub rule: String,
}

/// One affiliate link and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct LinkFact {
    /// Source line.
    pub line: u32,
    /// Link text.
    pub text: String,
    /// Absolute URL.
    pub url: String,
    /// The program it belongs to.
    pub network: String,
    /// The rule that classified it (host, parameter, cloaking prefix, `rel=sponsored` …).
    pub network_rule: String,
    /// Where the link leads: the shop page its parameters name, or where a cloaked link redirects.
    pub destination: Option<String>,
    /// Whether it has `rel="sponsored"`.
    pub rel_sponsored: bool,
    /// Compliant, or the rule it breaks.
    pub status: LinkStatus,
    /// For a compliant link the disclosure that speaks for it; for a violation the one the
    /// finding names (after the link, hidden, link-only), if any.
    pub deciding: Option<Deciding>,
    /// For a violation: each disclosure or near miss that did not count for this link, and why.
    pub near: Vec<String>,
}

/// Explains the audit of `page`: the same verdicts as [`audit`], with the reasons.
///
/// Disclosure lines are known when the page was parsed with
/// [`parse_with_lines`](crate::page::parse_with_lines).
pub fn explain(page: &Page, rules: &Ruleset, opts: &AuditOptions) -> Explanation {
    explain_resolved(page, rules, opts, &|_| None)
}

/// [`explain`] with same-site links classified by where they redirect, as
/// [`audit_resolved`](super::audit_resolved) does.
pub fn explain_resolved(
    page: &Page,
    rules: &Ruleset,
    opts: &AuditOptions,
    redirect_of: &dyn Fn(&url::Url) -> Option<url::Url>,
) -> Explanation {
    let report = audit_resolved(page, rules, opts, redirect_of);
    let names = site_names(page, opts);
    let disclosures = page_disclosures(page, rules, opts, &names);
    let line_of = |order: u32| line_at(page, order);
    let facts: Vec<DisclosureFact> = disclosures
        .iter()
        .map(|d| fact(page, d, line_of(d.order)))
        .collect();
    let mut near_misses = Vec::new();
    for block in &page.blocks {
        for m in rules.phrases().near_misses(&block.text, &names) {
            near_misses.push(NearMissFact {
                line: block.line,
                order: block.order_at(m.sentence.start),
                excerpt: excerpt(&block.text[m.sentence.clone()]),
                rule: m.rule,
                miss: m.miss,
                why: m.miss.describe().to_string(),
                hidden: block.visibility == Visibility::Hidden,
            });
        }
    }
    // The inventory has one entry per affiliate link, in page order: pair each with its link.
    let mut page_links = page.links.iter().filter(|l| l.url.is_some());
    let mut links = Vec::with_capacity(report.links.len());
    for entry in &report.links {
        let link = page_links.find(|l| {
            l.line == entry.line
                && l.url
                    .as_ref()
                    .is_some_and(|u| u.as_str() == &*entry.link_url)
        });
        let order = link.map_or(u32::MAX, |l| l.order);
        let deciding = (!entry.disclosure_rule.is_empty()).then(|| {
            let found = disclosures.iter().find(|d| {
                d.rule == entry.disclosure_rule
                    && d.excerpt == entry.disclosure_excerpt
                    && (entry.status != LinkStatus::Compliant || d.order < order)
            });
            Deciding {
                excerpt: entry.disclosure_excerpt.to_string(),
                // A label right at the link is not in the page's list: it stands on the link's line.
                line: found.map_or(entry.line, |d| line_of(d.order)),
                strength: found.map(|d| d.strength).or(entry.disclosure_strength),
                rule: entry.disclosure_rule.to_string(),
            }
        });
        let near = match entry.status {
            LinkStatus::Compliant => Vec::new(),
            LinkStatus::Violation(_) => near_for(order, &facts, &near_misses),
        };
        links.push(LinkFact {
            line: entry.line,
            text: entry.link_text.to_string(),
            url: entry.link_url.to_string(),
            network: entry.network.to_string(),
            network_rule: entry.network_rule.to_string(),
            destination: entry.destination.clone(),
            rel_sponsored: entry.rel_sponsored,
            status: entry.status,
            deciding,
            near,
        });
    }
    let counted_statements: Vec<&str> = disclosures
        .iter()
        .filter(|d| d.kind == Kind::Counted && d.scope == Scope::Page)
        .flat_map(|d| d.statements.iter().map(String::as_str))
        .collect();
    let mut required_statements: Vec<StatementFact> = Vec::new();
    for link in &page.links {
        let Some(url) = &link.url else { continue };
        let target = redirect_of(url).unwrap_or_else(|| url.clone());
        let Some(class) = rules.classify_link(&target, page.base.as_ref(), link.is_sponsored())
        else {
            continue;
        };
        let Some(id) = class.required_statement else {
            continue;
        };
        if required_statements.iter().any(|s| s.id == id) {
            continue;
        }
        if let Some(statement) = rules.required_statement(&id) {
            required_statements.push(StatementFact {
                made: counted_statements.contains(&id.as_str()),
                program: statement.program.clone(),
                id,
            });
        }
    }
    Explanation {
        page_url: report.page_url.clone(),
        lang: page.lang.clone(),
        site_names: names.keys().to_vec(),
        scripts: page
            .scripts
            .iter()
            .map(|s| ScriptFact {
                name: s.name.clone(),
                url: s.url.clone(),
                line: s.line,
            })
            .collect(),
        required_statements,
        disclosures: facts,
        near_misses,
        links,
        findings: report.findings,
    }
}

/// Why each disclosure and near miss of the page did not count for the link at `order`.
fn near_for(order: u32, facts: &[DisclosureFact], misses: &[NearMissFact]) -> Vec<String> {
    let at = |line: u32| {
        if line == 0 {
            String::new()
        } else {
            format!("line {line}: ")
        }
    };
    let mut out = Vec::new();
    for d in facts {
        let what = format!("{}\"{}\"", at(d.line), d.excerpt);
        let why = match (d.kind, d.marker) {
            (DisclosureKind::Hidden, _) => format!(
                "hidden from readers by {}",
                d.hidden_by.map_or("a hiding rule", HiddenBy::describe)
            ),
            (DisclosureKind::LinkOnly, _) => {
                "only a link to a disclosure; the page must state it in text before the link"
                    .to_string()
            }
            (DisclosureKind::Visible, Some(marker)) => {
                format!("a legend for links marked {marker}; this link carries no such marker")
            }
            (DisclosureKind::Visible, None) if d.order > order => {
                "comes after the link; readers must meet it first".to_string()
            }
            // A visible disclosure before the link that still did not count cannot happen: it
            // would have made the link compliant.
            (DisclosureKind::Visible, None) => continue,
        };
        out.push(format!("{what}: {why}"));
    }
    for m in misses {
        let place = if m.order > order {
            ", after the link"
        } else {
            ""
        };
        out.push(format!(
            "{}\"{}\": not a disclosure: {}{place}",
            at(m.line),
            m.excerpt,
            m.why
        ));
    }
    out
}

/// The public form of a disclosure.
fn fact(page: &Page, d: &Disclosure, line: u32) -> DisclosureFact {
    let kind = match d.kind {
        Kind::Counted => DisclosureKind::Visible,
        Kind::Hidden => DisclosureKind::Hidden,
        Kind::LinkOnly => DisclosureKind::LinkOnly,
    };
    DisclosureFact {
        kind,
        hidden_by: (kind == DisclosureKind::Hidden)
            .then(|| block_at(page, d.order).and_then(|b| b.hidden_by))
            .flatten(),
        marker: match d.scope {
            Scope::Marker(m) => Some(m),
            Scope::Page => None,
        },
        line,
        order: d.order,
        excerpt: d.excerpt.to_string(),
        strength: d.strength,
        rule: d.rule.to_string(),
        statements: d.statements.clone(),
    }
}

/// The block holding the text at reading-order position `order`.
fn block_at(page: &Page, order: u32) -> Option<&crate::page::Block> {
    let i = page
        .blocks
        .partition_point(|b| b.segments.first().is_some_and(|s| s.order <= order));
    let block = page.blocks.get(i.checked_sub(1)?)?;
    (block.segments.last()?.order >= order).then_some(block)
}

/// The source line of what stands at reading-order position `order`: a link's line, or its
/// block's (0 when unknown).
fn line_at(page: &Page, order: u32) -> u32 {
    if order == 0 {
        return 0;
    }
    if let Ok(i) = page.links.binary_search_by_key(&order, |l| l.order) {
        return page.links[i].line;
    }
    block_at(page, order).map_or(0, |b| b.line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Document;
    use crate::page::parse_with_lines;

    const AMZ: &str = "https://www.amazon.com/dp/B0TENT?tag=site-20";

    fn explain_html(html: &str) -> Explanation {
        let rules = Ruleset::defaults().unwrap();
        let doc = Document::from_html("https://site.example/post/", html);
        let page = parse_with_lines(&doc, &rules).unwrap();
        explain(&page, &rules, &AuditOptions::default())
    }

    #[test]
    fn a_compliant_link_names_the_disclosure_before_it_and_its_line() {
        let e = explain_html(&format!(
            "<p>Intro.</p>\n<p>We earn a commission when you buy through links on this page.</p>\n\
             <p>As an Amazon Associate we earn from qualifying purchases.</p>\n<p><a href=\"{AMZ}\">Tent</a></p>"
        ));
        assert_eq!(e.links.len(), 1);
        let link = &e.links[0];
        assert_eq!(link.status, LinkStatus::Compliant);
        assert_eq!(link.line, 4);
        let d = link.deciding.as_ref().expect("a deciding disclosure");
        // Of two explicit statements, the nearest one speaks for the link.
        assert_eq!(d.line, 3, "{d:?}");
        assert!(d.excerpt.starts_with("As an Amazon Associate"), "{d:?}");
        assert_eq!(d.strength, Some(Strength::Explicit));
        assert!(link.near.is_empty());
        assert!(e.required_statements.iter().all(|s| s.made), "{e:?}");
    }

    #[test]
    fn a_violation_lists_what_did_not_count_and_why() {
        let e = explain_html(&format!(
            "<p class=\"sr-only\">We earn a commission from links on this page.</p>\n\
             <p>We do not get paid a commission for these links.</p>\n\
             <p><a href=\"{AMZ}\">Tent</a></p>\n\
             <p>We may earn a commission when you buy through our links.</p>"
        ));
        let link = &e.links[0];
        assert_eq!(link.status.to_string(), "disclosure-after-link");
        let near = link.near.join("\n");
        assert!(
            near.contains("line 1:") && near.contains("visually-hidden class"),
            "{near}"
        );
        assert!(
            near.contains("line 2:") && near.contains("negated"),
            "{near}"
        );
        assert!(
            near.contains("line 4:") && near.contains("comes after the link"),
            "{near}"
        );
        let hidden: Vec<_> = e
            .disclosures
            .iter()
            .filter(|d| d.kind == DisclosureKind::Hidden)
            .collect();
        assert_eq!(hidden.len(), 1);
        assert_eq!(hidden[0].hidden_by, Some(HiddenBy::Class));
        assert!(!e.required_statements.is_empty() && !e.required_statements[0].made);
    }

    #[test]
    fn explained_verdicts_are_the_audits() {
        let html = format!(
            "<p><a href=\"{AMZ}\">A</a></p><p>Affiliate link</p><p><a href=\"{AMZ}&x=1\">B</a></p>"
        );
        let e = explain_html(&html);
        let rules = Ruleset::defaults().unwrap();
        let doc = Document::from_html("https://site.example/post/", &html);
        let report = super::super::audit(
            &crate::page::parse(&doc, &rules).unwrap(),
            &rules,
            &AuditOptions::default(),
        );
        let statuses: Vec<_> = e.links.iter().map(|l| l.status).collect();
        let expected: Vec<_> = report.links.iter().map(|l| l.status).collect();
        assert_eq!(statuses, expected);
        assert_eq!(e.findings, report.findings);
    }
}
