//! SARIF 2.1.0, as GitHub code scanning reads it: one run, the tool's rules as reporting
//! descriptors, one result per finding located at the page's file (or URL) and line.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::normalize_link;
use super::{Locations, ReportWriter, Summary};
use crate::findings::{Finding, PageReport, Rule, Severity};

/// The `$schema` written into the log.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Where the rules are documented (the README's rules section).
pub const RULES_HELP_URI: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "#rules-findings");

/// The `partialFingerprints` key of affcheck's result fingerprint.
pub const FINGERPRINT_KEY: &str = "affcheckFinding/v1";

/// The SARIF `level` of a severity.
pub fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice => "note",
    }
}

/// A short title for a rule (SARIF `shortDescription`).
pub fn rule_title(rule: Rule) -> &'static str {
    match rule {
        Rule::StatementMissing(_) => rule
            .definition()
            .map_or("Required statement missing", |d| d.title.as_str()),
        Rule::Undisclosed => "Affiliate link without any disclosure",
        Rule::DisclosureAfterLink => "Affiliate link before the disclosure",
        Rule::HiddenDisclosure => "Disclosure hidden from readers",
        Rule::DisclosureLinkOnly => "Disclosure only linked, not stated",
        Rule::MonetizationScriptUndisclosed => "Link-rewriting script without disclosure",
        Rule::MissingRelSponsored => "Affiliate link without rel=\"sponsored\"",
        Rule::WeakDisclosure => "Disclosure only labels the links",
    }
}

/// What to do about a finding of a rule (SARIF `help`).
pub fn rule_help(rule: Rule) -> &'static str {
    match rule {
        Rule::Undisclosed | Rule::MonetizationScriptUndisclosed => {
            "Add a visible statement above the first affiliate link saying that the site earns money from its links, such as \"We earn a commission if you buy through links on this page.\" The FTC Endorsement Guides, the UK CAP code and the networks' contracts ask for a clear and conspicuous disclosure before the link."
        }
        Rule::DisclosureAfterLink => {
            "Move the disclosure above the first affiliate link (or add one there): readers must see it before they click. A disclosure in the footer or at the end of the article does not count for links above it."
        }
        Rule::HiddenDisclosure => {
            "Show the disclosure as visible text: not display:none, visibility:hidden, the hidden attribute, a screen-reader-only class or a closed details element."
        }
        Rule::DisclosureLinkOnly => {
            "State the disclosure in the text above the link; a link labelled \"Affiliate disclosure\" that leads to another page is not a disclosure on its own."
        }
        Rule::StatementMissing(_) => rule.definition().map_or(
            "Add the statement the program requires on every page with its links.",
            |d| d.help.as_str(),
        ),
        Rule::MissingRelSponsored => {
            "Add rel=\"sponsored\" to paid and affiliate links, as search engines ask. This is search-engine guidance, not a disclosure requirement."
        }
        Rule::WeakDisclosure => {
            "Say plainly that the site earns money from the links (\"We earn a commission if you buy through these links\") instead of only calling them affiliate links."
        }
    }
}

/// The rule's `name` in SARIF: its id in PascalCase (`DisclosureAfterLink`).
fn rule_name(rule: Rule) -> String {
    rule.id()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The `tool.driver` object: name, version, information URI and one reporting descriptor per rule
/// of [`Rule::all`], in that order (a result's `ruleIndex` is the rule's position there).
pub fn sarif_driver() -> Value {
    driver(&Rule::all())
}

fn driver(rules: &[Rule]) -> Value {
    let rules: Vec<Value> = rules
        .iter()
        .map(|&rule| {
            json!({
                "id": rule.id(),
                "name": rule_name(rule),
                "shortDescription": { "text": rule_title(rule) },
                "fullDescription": { "text": rule.description() },
                "help": {
                    "text": rule_help(rule),
                    "markdown": format!("{}\n\nSee [the rules]({RULES_HELP_URI}).", rule_help(rule)),
                },
                "helpUri": RULES_HELP_URI,
                "defaultConfiguration": { "level": sarif_level(rule.severity()) },
                "properties": { "tags": ["affiliate-disclosure", "compliance"] },
            })
        })
        .collect();
    json!({
        "name": env!("CARGO_PKG_NAME"),
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "informationUri": env!("CARGO_PKG_REPOSITORY"),
        "rules": rules,
    })
}

/// A stable 64-bit FNV-1a hash, written as 16 hex digits (the same on every platform and Rust
/// version, unlike `std`'s hasher).
pub fn stable_hash(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Streams a SARIF 2.1.0 log: the tool and its rules first, one result per finding, the run's
/// summary in `run.properties` at the end.
///
/// Locations: a page with a local file ([`Locations::repo_path`]) is reported at that path
/// relative to the repository root, percent-encoded, with `region.startLine`; other pages at their
/// URL. Each result has a `partialFingerprints` entry ([`FINGERPRINT_KEY`]) hashing the location,
/// rule, normalized link and the occurrence number of that triple on the page, so GitHub tracks a
/// result across runs even when its line moves.
pub struct SarifReport<W: Write> {
    out: W,
    locations: Locations,
    first: bool,
    /// The rules of the driver, in `ruleIndex` order.
    rules: Vec<Rule>,
}

impl<W: Write> SarifReport<W> {
    /// Starts the log: writes everything up to the results.
    pub fn new(mut out: W, locations: Locations) -> io::Result<Self> {
        write!(
            out,
            "{{\"$schema\":{},\"version\":\"2.1.0\",\"runs\":[{{\"tool\":{{\"driver\":",
            Value::from(SARIF_SCHEMA)
        )?;
        let rules = Rule::all();
        serde_json::to_writer(&mut out, &driver(&rules))?;
        out.write_all(b"},\"columnKind\":\"unicodeCodePoints\",\"results\":[")?;
        Ok(SarifReport {
            out,
            locations,
            first: true,
            rules,
        })
    }

    fn result(&self, f: &Finding, uri: &str, occurrence: usize) -> Value {
        let index = self.rules.iter().position(|&r| r == f.rule).unwrap_or(0);
        let mut text = f.message.clone();
        if !f.link_url.is_empty() {
            text.push_str(&format!(" Link: {}", f.link_url));
        }
        if self.locations.repo_path(&f.page_url).is_none() && *uri != *f.page_url {
            text.push_str(&format!(" Page: {}", f.page_url));
        }
        let mut physical = json!({ "artifactLocation": { "uri": uri } });
        if f.line > 0 {
            physical["region"] = json!({ "startLine": f.line });
        }
        let link = normalize_link(&f.link_url);
        let occurrence = occurrence.to_string();
        json!({
            "ruleId": f.rule.id(),
            "ruleIndex": index,
            "level": sarif_level(f.severity),
            "message": { "text": text },
            "locations": [{ "physicalLocation": physical }],
            "partialFingerprints": {
                FINGERPRINT_KEY: stable_hash(&[uri, f.rule.id(), &link, &occurrence]),
            },
            "properties": {
                "pageUrl": f.page_url,
                "linkUrl": f.link_url,
                "network": f.network,
                "disclosureExcerpt": f.disclosure_excerpt,
                "disclosureStrength": f.disclosure_strength,
                "disclosureRule": f.disclosure_rule,
            },
        })
    }
}

impl<W: Write> ReportWriter for SarifReport<W> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        let mut seen: HashMap<(Rule, String), usize> = HashMap::new();
        for f in &page.findings {
            let uri = self.locations.artifact_uri(&f.page_url);
            let n = seen
                .entry((f.rule, normalize_link(&f.link_url)))
                .or_default();
            *n += 1;
            let result = self.result(f, &uri, *n);
            self.out
                .write_all(if self.first { b"\n" } else { b",\n" })?;
            self.first = false;
            serde_json::to_writer(&mut self.out, &result)?;
        }
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.out.write_all(b"\n],\"properties\":{\"summary\":")?;
        serde_json::to_writer(&mut self.out, summary)?;
        self.out.write_all(b"}}]}\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::report;

    #[test]
    fn log_shape() {
        // The rules data defines some rules: the driver lists them once it is loaded.
        crate::rules::Ruleset::defaults().unwrap();
        let mut buf = Vec::new();
        let mut w = SarifReport::new(&mut buf, Locations::new(None)).unwrap();
        let mut page = report();
        page.findings.push(page.findings[0].clone());
        w.write_page(&page).unwrap();
        w.finish(&Summary::default()).unwrap();
        let v: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "affcheck");
        assert_eq!(
            run["tool"]["driver"]["rules"].as_array().unwrap().len(),
            Rule::all().len()
        );
        assert_eq!(
            run["tool"]["driver"]["rules"][1]["name"],
            "DisclosureAfterLink"
        );
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["ruleIndex"], 0);
        assert_eq!(results[0]["level"], "error");
        let loc = &results[0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "https://s.example/a.html");
        assert_eq!(loc["region"]["startLine"], 7);
        let fp = |i: usize| results[i]["partialFingerprints"][FINGERPRINT_KEY].clone();
        assert_ne!(fp(0), fp(1), "duplicates get distinct fingerprints");
    }

    #[test]
    fn hash_is_stable() {
        assert_eq!(stable_hash(&[]), "cbf29ce484222325");
        assert_ne!(stable_hash(&["ab", "c"]), stable_hash(&["a", "bc"]));
    }
}
