//! The verdict on each affiliate link: which disclosure speaks for it, and so whether it is
//! compliant or which rule it breaks; then the page-level findings (scripts, required statements).

use std::sync::Arc;

use url::Url;

use crate::page::Page;
use crate::rules::{LinkClass, Ruleset, SiteNames, Strength};

use super::disclosures::{
    Disclosure, Kind, LinkPosition, Scope, disclosures, label_at_link, link_positions,
};
use super::{
    AffiliateLink, AuditOptions, Finding, LinkStatus, PageReport, Rule, SITE_DISCLOSURE_EXCERPT,
    messages,
};

/// Audits a parsed page.
pub fn audit(page: &Page, rules: &Ruleset, opts: &AuditOptions) -> PageReport {
    audit_resolved(page, rules, opts, &|_| None)
}

/// The site's own names: those the page declares and those of the configuration.
pub(super) fn site_names(page: &Page, opts: &AuditOptions) -> SiteNames {
    let mut names = page.site_names.clone();
    names.extend(&opts.site_names);
    names
}

/// Every disclosure of the page in reading order, led by the configuration's site-wide one.
pub(super) fn page_disclosures(
    page: &Page,
    rules: &Ruleset,
    opts: &AuditOptions,
    names: &SiteNames,
) -> Vec<Disclosure> {
    let mut list = disclosures(page, rules, names);
    if let Some(site) = &opts.site_disclosure {
        list.insert(
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
    list
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
    let names = site_names(page, opts);
    let disclosures = page_disclosures(page, rules, opts, &names);
    let counted = || {
        disclosures
            .iter()
            .filter(|d| d.kind == Kind::Counted && d.scope == Scope::Page)
    };
    let mut positions: Option<Vec<Option<LinkPosition>>> = None;
    // One copy of each text a page's rows repeat (page, link URL, link text), shared by the link's
    // inventory entry and its findings: on a page of many links most of a report is these.
    let page_url: Arc<str> = page.display.as_str().into();
    let mut report = PageReport {
        page_url: page.display.clone(),
        findings: Vec::new(),
        // At most one entry per link; sized up front so a page of many links never holds the
        // list's old and new buffer at once (reserved room that stays unused is not resident).
        links: Vec::with_capacity(page.links.len()),
    };
    // Per required statement, in the order first met: the first link that requires it.
    let mut requiring: Vec<(String, Arc<str>, Arc<str>, u32)> = Vec::new();
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
        let link_url: Arc<str> = url.as_str().into();
        let link_text: Arc<str> = link.text.as_str().into();
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
            page_url: page_url.clone(),
            rule,
            severity: rule.severity(),
            link_url: link_url.clone(),
            network: class.network.clone(),
            link_text: link_text.clone(),
            line: link.line,
            disclosure_excerpt: excerpt.clone(),
            disclosure_strength: strength_of,
            disclosure_rule: rule_of.clone(),
            message,
        };
        if let LinkStatus::Violation(rule) = status {
            report.findings.push(finding(
                rule,
                messages::link_message(rule, &class, redirect.is_some(), link.line, &excerpt),
            ));
        }
        if opts.notices {
            if !link.is_sponsored() {
                report.findings.push(finding(
                    Rule::MissingRelSponsored,
                    messages::missing_rel_sponsored(&class.network),
                ));
            }
            if strength == Some(Strength::Label) {
                report.findings.push(finding(
                    Rule::WeakDisclosure,
                    messages::weak_disclosure(&rule_of, &excerpt),
                ));
            }
        }
        if let Some(id) = &class.required_statement
            && !requiring.iter().any(|(known, ..)| known == id)
        {
            requiring.push((id.clone(), link_url.clone(), link_text.clone(), link.line));
        }
        report.links.push(AffiliateLink {
            link_url,
            network: class.network.clone(),
            network_rule: class.rule_id.clone(),
            destination: class.destination.clone(),
            link_text,
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
                page_url: page_url.clone(),
                rule: Rule::MonetizationScriptUndisclosed,
                severity: Rule::MonetizationScriptUndisclosed.severity(),
                link_url: script.url.as_str().into(),
                network: script.name.as_str().into(),
                link_text: Arc::default(),
                line: script.line,
                disclosure_excerpt: Arc::default(),
                disclosure_strength: None,
                disclosure_rule: Arc::default(),
                message: messages::script_undisclosed(&script.name, script.line),
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
            page_url: page_url.clone(),
            rule: statement.rule,
            severity: statement.severity,
            link_url,
            network: statement.program.as_str().into(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{AMZ, rules_of, run, run_with};
    use crate::findings::{Severity, SiteDisclosure};

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
        assert_eq!(&*r.links[0].disclosure_excerpt, SITE_DISCLOSURE_EXCERPT);
        let r = run_with(html, site(&["some-other-program"]));
        assert_eq!(rules_of(&r), ["amazon-statement-missing"]);
        assert!(
            run_with(html, site(&["amazon-associates"]))
                .findings
                .is_empty()
        );
    }

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
    fn disclosure_after_link() {
        let r = run(&format!(
            "<p><a href=\"{AMZ}\">Buy</a></p><footer><p>We earn a commission from these links.</p></footer>"
        ));
        assert_eq!(rules_of(&r)[0], "disclosure-after-link");
        assert_eq!(
            &*r.findings[0].disclosure_excerpt,
            "We earn a commission from these links."
        );
        assert_eq!(&*r.findings[0].link_url, AMZ);
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
            &*link_only.findings[0].disclosure_excerpt,
            "Affiliate disclosure"
        );
        let none = run(&format!("<a href=\"{AMZ}\">Buy</a>"));
        assert_eq!(rules_of(&none)[0], "undisclosed");
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
        assert_eq!(&*r.links[0].network, "sponsored");
        assert_eq!(rules_of(&r)[0], "undisclosed");
    }

    #[test]
    fn cloaked_same_site_link() {
        let r = run(
            "<a href=\"/go/tent/\">Tent</a><a href=\"https://other.example/go/tent/\">Other</a>",
        );
        assert_eq!(r.links.len(), 1);
        assert_eq!(&*r.links[0].network, "cloaked");
        assert_eq!(&*r.links[0].link_url, "https://site.example/go/tent/");
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
}
