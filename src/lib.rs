//! affcheck: audit publisher pages for affiliate-disclosure compliance.
//!
//! The library follows the data through small typed stages:
//! [`input`] (URLs, files, folders, standard input), [`crawl`] and [`warc`] →
//! [`Document`] (url and bytes) → [`page::Page`] (reading-order text blocks and links with
//! visibility) → [`PageReport`] (findings and affiliate links, by the one [`Auditor`]) →
//! [`sink`] (policy, summary and report writers, the same for every input). [`rules`] holds the
//! compiled rules data every stage consults; [`fetch`] is the one HTTP layer.
//!
//! ```
//! use affcheck::{Auditor, AuditOptions, Document, Ruleset};
//!
//! let rules = Ruleset::defaults()?;
//! let auditor = Auditor::new(rules, AuditOptions::default());
//! let page = Document::from_html(
//!     "https://blog.example/best-tents/",
//!     r#"<p>We earn a commission if you buy through the links on this page.</p>
//!        <p><a href="https://www.awin1.com/cread.php?awinmid=1&awinaffid=2">The tent</a></p>"#,
//! );
//! let report = auditor.audit(&page).expect("an HTML page");
//! assert_eq!(report.links.len(), 1);
//! assert!(report.findings.is_empty(), "disclosed before the link");
//! # Ok::<(), affcheck::rules::RulesError>(())
//! ```

pub mod audit;
pub mod baseline;
pub mod config;
pub mod crawl;
pub mod document;
pub mod fetch;
pub mod findings;
pub mod input;
pub mod page;
pub mod pipeline;
pub mod policy;
pub mod report;
pub mod rules;
pub mod scope;
pub mod sink;
pub mod warc;

pub use audit::{Auditor, NoRedirects, Resolve};
pub use document::{Document, Skip};
pub use findings::{AffiliateLink, AuditOptions, Finding, PageReport, Rule, Severity};
pub use rules::Ruleset;
