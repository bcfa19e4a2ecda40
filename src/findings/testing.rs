//! Helpers shared by the tests of the findings stage: audit a snippet of HTML with the default rules.

use super::{AuditOptions, PageReport, audit};
use crate::document::Document;
use crate::rules::Ruleset;

/// An Amazon link with an associate tag.
pub(super) const AMZ: &str = "https://www.amazon.com/dp/B01?tag=site-20";
/// A second Amazon link, for pages where two links must be told apart.
pub(super) const AMZ2: &str = "https://www.amazon.com/dp/B02?tag=site-20";

/// Audits `html` as the page `https://site.example/p.html` with the default options.
pub(super) fn run(html: &str) -> PageReport {
    run_with(html, AuditOptions::default())
}

/// Audits `html` as the page `https://site.example/p.html` with `opts`.
pub(super) fn run_with(html: &str, opts: AuditOptions) -> PageReport {
    let rules = Ruleset::defaults().unwrap();
    let doc = Document {
        display: "https://site.example/p.html".into(),
        base: Some(url::Url::parse("https://site.example/p.html").unwrap()),
        bytes: html.as_bytes().to_vec(),
        content_type: None,
    };
    audit(&crate::page::parse(&doc, &rules).unwrap(), &rules, &opts)
}

/// The rule ids of a report's findings, in order.
pub(super) fn rules_of(r: &PageReport) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.rule.id()).collect()
}
