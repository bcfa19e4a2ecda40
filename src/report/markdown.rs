//! A Markdown summary of a run, for `$GITHUB_STEP_SUMMARY` or a pull-request comment: totals,
//! findings by rule and by network, and the pages with the most findings.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{ReportWriter, Summary};
use crate::findings::{PageReport, Rule, Severity};

/// Pages listed in the "most findings" table.
pub const WORST_PAGES: usize = 10;

/// Escapes text for a Markdown table cell: `|` as `\|`, Markdown punctuation that could start
/// emphasis, links, code or HTML backslash-escaped, line breaks as spaces.
pub fn md_cell(text: &str) -> String {
    let text = super::printable_keeping(text, &['\r', '\n']);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '*' | '_' | '[' | ']' | '`' | '<' | '>' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A page URL or path as a table cell: a code span (no emphasis or autolinks inside), `|` as
/// `\|` (GitHub tables split cells before reading code spans), fences longer than any backtick
/// run inside.
pub fn md_code_cell(text: &str) -> String {
    let text = super::printable(&text.replace(['\r', '\n'], " ")).replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[derive(Debug, Clone)]
struct PageCount {
    seq: usize,
    page: String,
    errors: usize,
    warnings: usize,
    notices: usize,
}

impl PageCount {
    fn rank(&self) -> (std::cmp::Reverse<(usize, usize, usize)>, usize) {
        (
            std::cmp::Reverse((self.errors, self.warnings, self.notices)),
            self.seq,
        )
    }
}

/// Writes the Markdown summary in `finish`; pages only update counts (the 10 worst pages are kept).
pub struct MarkdownReport<W: Write> {
    out: W,
    seq: usize,
    by_rule: BTreeMap<Rule, (Severity, usize)>,
    by_network: BTreeMap<String, usize>,
    worst: Vec<PageCount>,
}

impl<W: Write> MarkdownReport<W> {
    /// A Markdown summary writer.
    pub fn new(out: W) -> Self {
        MarkdownReport {
            out,
            seq: 0,
            by_rule: BTreeMap::new(),
            by_network: BTreeMap::new(),
            worst: Vec::new(),
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl<W: Write> ReportWriter for MarkdownReport<W> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        self.seq += 1;
        if page.findings.is_empty() {
            return Ok(());
        }
        let mut count = PageCount {
            seq: self.seq,
            page: page.page_url.clone(),
            errors: 0,
            warnings: 0,
            notices: 0,
        };
        for f in &page.findings {
            let entry = self.by_rule.entry(f.rule).or_insert((f.severity, 0));
            entry.0 = entry.0.max(f.severity);
            entry.1 += 1;
            let network = if f.network.is_empty() {
                "(unknown)"
            } else {
                &f.network
            };
            *self.by_network.entry(network.to_string()).or_default() += 1;
            match f.severity {
                Severity::Error => count.errors += 1,
                Severity::Warning => count.warnings += 1,
                Severity::Notice => count.notices += 1,
            }
        }
        self.worst.push(count);
        if self.worst.len() > WORST_PAGES * 4 {
            self.worst.sort_by_key(PageCount::rank);
            self.worst.truncate(WORST_PAGES);
        }
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        let total: usize = s.by_severity.values().sum();
        let sev = |v: Severity| s.by_severity.get(&v).copied().unwrap_or(0);
        let mut md = String::from("## affcheck report\n\n");
        md.push_str(&format!(
            "**{}**, {}, **{}** ({}, {}, {}) in {:.2} s.\n",
            plural(s.pages, "page", "pages"),
            plural(s.affiliate_links, "affiliate link", "affiliate links"),
            plural(total, "finding", "findings"),
            plural(sev(Severity::Error), "error", "errors"),
            plural(sev(Severity::Warning), "warning", "warnings"),
            plural(sev(Severity::Notice), "notice", "notices"),
            s.elapsed.as_secs_f64()
        ));
        if s.skipped > 0 || s.failed > 0 || s.ignored > 0 {
            md.push_str(&format!(
                "\nNot audited: {} skipped (not HTML), {} failed, {} ignored by the config.\n",
                s.skipped, s.failed, s.ignored
            ));
        }
        if let Some(b) = &s.baseline {
            md.push_str(&format!(
                "\nBaseline: {} known hidden, {} fixed since the baseline.\n",
                plural(b.baselined, "finding", "findings"),
                b.fixed
            ));
        }
        if self.by_rule.is_empty() {
            md.push_str("\nNo findings.\n");
        } else {
            md.push_str(
                "\n### Findings by rule\n\n| rule | severity | findings |\n| --- | --- | ---: |\n",
            );
            for (rule, (severity, n)) in &self.by_rule {
                md.push_str(&format!(
                    "| {} | {severity} | {n} |\n",
                    md_code_cell(rule.id())
                ));
            }
            md.push_str("\n### Findings by network\n\n| network | findings |\n| --- | ---: |\n");
            let mut networks: Vec<(&String, &usize)> = self.by_network.iter().collect();
            networks.sort_by_key(|(name, n)| (std::cmp::Reverse(**n), *name));
            for (name, n) in networks {
                md.push_str(&format!("| {} | {n} |\n", md_cell(name)));
            }
            self.worst.sort_by_key(PageCount::rank);
            self.worst.truncate(WORST_PAGES);
            md.push_str(&format!(
                "\n### Pages with the most findings (top {WORST_PAGES})\n\n| page | errors | warnings | notices |\n| --- | ---: | ---: | ---: |\n"
            ));
            for p in &self.worst {
                md.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    md_code_cell(&p.page),
                    p.errors,
                    p.warnings,
                    p.notices
                ));
            }
        }
        self.out.write_all(md.as_bytes())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::report;

    #[test]
    fn cells_are_escaped() {
        assert_eq!(md_cell("a|b*c\nd"), "a\\|b\\*c d");
        assert_eq!(md_code_cell("/a|b"), "`/a\\|b`");
        assert_eq!(md_code_cell("x`y"), "``x`y``");
        assert_eq!(md_code_cell("`x"), "`` `x ``");
    }

    #[test]
    fn worst_pages_are_ranked_and_capped() {
        let mut w = MarkdownReport::new(Vec::new());
        let mut summary = Summary::default();
        for i in 0..30 {
            let mut page = report();
            page.page_url = format!("p{i}|.html");
            for _ in 0..(i % 5) {
                page.findings.push(page.findings[0].clone());
            }
            summary.add(&page);
            w.write_page(&page).unwrap();
        }
        w.finish(&summary).unwrap();
        let md = String::from_utf8(w.out).unwrap();
        let worst: Vec<&str> = md
            .split("### Pages with the most findings")
            .nth(1)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("| `"))
            .collect();
        assert_eq!(worst.len(), WORST_PAGES);
        assert!(worst[0].starts_with("| `p4\\|.html` | 5 |"), "{}", worst[0]);
        assert!(md.contains("| `undisclosed` | error | 90 |"), "{md}");
        assert!(md.contains("| Amazon Associates | 90 |"), "{md}");
    }
}
