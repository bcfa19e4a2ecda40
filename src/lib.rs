//! affcheck: audit publisher pages for affiliate-disclosure compliance.
//!
//! The library follows the data through small typed stages:
//! [`input`] (URLs, files, folders, standard input) → [`document::Document`] (url and bytes) →
//! [`page::Page`] (reading-order text blocks and links with visibility) → [`findings`] (violations) →
//! [`report`] (CSV and other writers). [`rules`] holds the compiled rules data every stage consults.

pub mod baseline;
pub mod config;
pub mod crawl;
pub mod document;
pub mod fetch;
pub mod findings;
pub mod input;
pub mod page;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod scope;
pub mod warc;
