//! The one entry point of the audit: [`Auditor`] turns a [`Document`] into a [`PageReport`] with
//! the same stages for every input (files, fetched URLs, crawls, WARC records, library callers).
//!
//! Same page, same verdict: the only thing an input may add is a [`Resolve`]r that says where
//! same-site cloaked links (`/go/…`) redirect, so they are classified by their destination. `check
//! URL` and `crawl` both pass the one of [`crate::fetch::redirects`].

use std::sync::Arc;

use url::Url;

use crate::document::{Document, Skip};
use crate::findings::{self, AuditOptions, PageReport};
use crate::page::{self, Page};
use crate::rules::Ruleset;

/// Answers where a link redirects, when that is known.
///
/// Given a link's absolute URL as written in the page, returns the off-site URL the server
/// redirects it to. A link with an answer is an affiliate link exactly when its destination is (or
/// when it is `rel="sponsored"`); a link without one is classified from its own URL.
pub trait Resolve {
    /// The off-site destination of `link`, when known.
    fn destination(&self, link: &Url) -> Option<Url>;
}

/// No redirect is known: links are classified from their own URLs (folders, standard input and
/// archives, where nothing can be requested).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRedirects;

impl Resolve for NoRedirects {
    fn destination(&self, _link: &Url) -> Option<Url> {
        None
    }
}

impl<F: Fn(&Url) -> Option<Url>> Resolve for F {
    fn destination(&self, link: &Url) -> Option<Url> {
        self(link)
    }
}

/// Audits pages: the compiled rules and the options of one run.
///
/// Cheap to clone and shareable across threads.
///
/// ```
/// use affcheck::{Auditor, AuditOptions, Document, Ruleset};
///
/// let auditor = Auditor::new(Ruleset::defaults()?, AuditOptions::default());
/// let doc = Document::from_html(
///     "https://blog.example/tents/",
///     r#"<p><a href="https://www.amazon.com/dp/B0TENT?tag=blog-20">Buy the tent</a></p>"#,
/// );
/// let report = auditor.audit(&doc).expect("an HTML page");
/// assert_eq!(report.findings[0].rule.id(), "undisclosed");
/// # Ok::<(), affcheck::rules::RulesError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Auditor {
    rules: Arc<Ruleset>,
    options: AuditOptions,
}

impl Auditor {
    /// An auditor with these rules and options.
    pub fn new(rules: impl Into<Arc<Ruleset>>, options: AuditOptions) -> Self {
        Auditor {
            rules: rules.into(),
            options,
        }
    }

    /// The rules it audits with.
    pub fn rules(&self) -> &Ruleset {
        &self.rules
    }

    /// The options it audits with.
    pub fn options(&self) -> &AuditOptions {
        &self.options
    }

    /// Audits a document whose cloaked links cannot be resolved.
    pub fn audit(&self, doc: &Document) -> Result<PageReport, Skip> {
        Ok(self.audit_page(&self.parse(doc)?, &NoRedirects))
    }

    /// Audits a document, classifying same-site links by where `resolve` says they redirect.
    pub fn audit_resolved(
        &self,
        doc: &Document,
        resolve: &dyn Resolve,
    ) -> Result<PageReport, Skip> {
        Ok(self.audit_page(&self.parse(doc)?, resolve))
    }

    /// The first half of an audit: checks that the document is HTML and builds its reading-order
    /// model. Inputs that must look at the links before the verdict (to request cloaked links, to
    /// follow links in a crawl) parse first and call [`Auditor::audit_page`] after.
    pub fn parse(&self, doc: &Document) -> Result<Page, Skip> {
        doc.check_html()?;
        page::parse(doc, &self.rules)
    }

    /// Parses a document as [`Auditor::parse`] does, also giving every text block its source line,
    /// for [`Auditor::explain_page`].
    pub fn parse_with_lines(&self, doc: &Document) -> Result<Page, Skip> {
        doc.check_html()?;
        page::parse_with_lines(doc, &self.rules)
    }

    /// Every decision behind the verdicts on a document whose cloaked links cannot be resolved.
    pub fn explain(&self, doc: &Document) -> Result<findings::Explanation, Skip> {
        Ok(self.explain_page(&self.parse_with_lines(doc)?, &NoRedirects))
    }

    /// Every decision behind the verdicts on a parsed page (best parsed with
    /// [`Auditor::parse_with_lines`], so that disclosures have lines).
    pub fn explain_page(&self, page: &Page, resolve: &dyn Resolve) -> findings::Explanation {
        findings::explain_resolved(page, &self.rules, &self.options, &|u| {
            resolve.destination(u)
        })
    }

    /// The second half: the verdicts on a parsed page.
    pub fn audit_page(&self, page: &Page, resolve: &dyn Resolve) -> PageReport {
        findings::audit_resolved(page, &self.rules, &self.options, &|u| {
            resolve.destination(u)
        })
    }

    /// The same-site links of `page` that look cloaked (`/go/…`, `/recommends/…`), as absolute
    /// URLs: the ones worth requesting to learn where they lead. `same_site` says which hosts
    /// belong to the site.
    pub fn cloaked_links(&self, page: &Page, same_site: impl Fn(&Url) -> bool) -> Vec<Url> {
        let mut out: Vec<Url> = page
            .links
            .iter()
            .filter_map(|l| l.url.as_ref())
            .filter(|u| same_site(u))
            .filter_map(crate::scope::normalize)
            .filter(|u| self.rules.is_cloaked_link(u, page.base.as_ref()))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auditor() -> Auditor {
        Auditor::new(Ruleset::defaults().unwrap(), AuditOptions::default())
    }

    const CLOAKED: &str = r#"<p><a href="/go/tent">Tent</a></p>"#;

    #[test]
    fn non_html_is_skipped_not_audited() {
        let mut doc = Document::from_html("https://b.example/x.pdf", "%PDF");
        doc.content_type = Some("application/pdf".into());
        assert_eq!(
            auditor().audit(&doc).unwrap_err(),
            Skip::NotHtml("application/pdf".into())
        );
    }

    #[test]
    fn a_resolved_cloaked_link_takes_its_destinations_network() {
        let doc = Document::from_html("https://b.example/post/", CLOAKED);
        let a = auditor();
        let plain = a.audit(&doc).unwrap();
        assert_eq!(&*plain.links[0].network, "cloaked");
        let to_amazon = |u: &Url| {
            (u.path() == "/go/tent")
                .then(|| Url::parse("https://www.amazon.com/dp/B1?tag=b-20").unwrap())
        };
        let resolved = a.audit_resolved(&doc, &to_amazon).unwrap();
        assert_eq!(&*resolved.links[0].network, "Amazon Associates");
        let rules: Vec<&str> = resolved.findings.iter().map(|f| f.rule.id()).collect();
        assert!(rules.contains(&"amazon-statement-missing"), "{rules:?}");
    }

    #[test]
    fn cloaked_links_are_same_site_normalized_and_unique() {
        let html = r#"<a href="/go/a#x">a</a><a href="/go/a">a</a>
            <a href="https://other.example/go/b">b</a><a href="/about/">about</a>"#;
        let doc = Document::from_html("https://b.example/", html);
        let a = auditor();
        let page = a.parse(&doc).unwrap();
        let got = a.cloaked_links(&page, |u| u.host_str() == Some("b.example"));
        let got: Vec<&str> = got.iter().map(Url::as_str).collect();
        assert_eq!(got, ["https://b.example/go/a"]);
    }
}
