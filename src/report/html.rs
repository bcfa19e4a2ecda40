//! A self-contained HTML report for a person (a compliance officer, a reviewer of a CI artifact):
//! headline figures, bar charts (inline SVG), the worst pages, a filterable and sortable table of
//! every finding, and a per-page view of every affiliate link with its verdict and the disclosure
//! it was judged on.
//!
//! One file, nothing fetched: the CSS and the script are inline, the charts are SVG written here,
//! and it works from a `file://` URL. Like the JSON and SARIF writers it streams: each page's
//! findings and links go out as they come, as compact JSON inside a
//! `<script type="application/json">` element (which the browser never renders), and `finish`
//! writes the visible document after it: the figures and charts from counts kept in memory, then
//! the script that draws the table and the page list from the data, a few hundred rows at a time.
//!
//! Page-controlled text never reaches the markup unescaped: in the data, `<`, `>`, `&`, U+2028 and
//! U+2029 are written as `\uXXXX` escapes (so no `</script>` or `<!--` can end or bend the data
//! element); in the markup, text is entity-escaped; the script inserts it with `textContent` only.
//! Control characters and bidirectional overrides are shown as visible `\u{…}` escapes
//! ([`printable`]), as in the other human-facing outputs.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::{ReportWriter, Summary, WORST_PAGES, printable, rule_title};
use crate::findings::{LinkStatus, PageReport, Rule, Severity};
use crate::rules::Strength;

const CSS: &str = include_str!("html.css");
const SCRIPT: &str = include_str!("html.js");

/// Bars in a chart at most; past that, the smallest are summed in one "others" bar.
pub const CHART_BARS: usize = 12;

/// Failed targets listed by name (the rest are counted).
const FAILURES_LISTED: usize = 100;

/// Findings by severity: error, warning, notice.
type Counts = [usize; 3];

/// The position of a severity in [`Counts`] and in the report's data (worst first).
fn sev_index(severity: Severity) -> usize {
    match severity {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Notice => 2,
    }
}

const SEVERITIES: [&str; 3] = ["error", "warning", "notice"];

/// Escapes text for HTML content and quoted attribute values.
pub fn html_escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Page text as shown to a person, entity-escaped: control characters made visible, then
/// [`html_escape`].
fn text(s: &str) -> String {
    html_escape(&printable(s)).into_owned()
}

/// Serialized JSON made safe inside a `<script>` element: `<`, `>` and `&` (which only occur
/// inside JSON strings) and the JavaScript line terminators U+2028 / U+2029 as `\u` escapes. The
/// JSON value is unchanged; no `</script>`, `<!--` or `<script` can appear in the element.
pub fn script_safe_json(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + json.len() / 16);
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            0xE2 if json.get(i + 1) == Some(&0x80)
                && matches!(json.get(i + 2), Some(0xA8 | 0xA9)) =>
            {
                out.extend_from_slice(if json[i + 2] == 0xA8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// `n` with thousands separators (`100,000`).
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// At most `max` characters of `s`, with `…` when cut.
fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if s.chars().count() <= max {
        Cow::Borrowed(s)
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        Cow::Owned(cut + "…")
    }
}

/// Whether `url` is a web address the report may link to.
fn is_web(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

#[derive(Debug, Clone, Copy, Default)]
struct SectionCount {
    pages: usize,
    links: usize,
    counts: Counts,
}

impl SectionCount {
    fn add(&mut self, other: &SectionCount) {
        self.pages += other.pages;
        self.links += other.links;
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
    }
}

/// Where a page sits on its site: a URL's host and first path segment (empty for a page at the
/// top level), or a file's folder.
enum SectionKey {
    Url(String, String),
    Folder(Vec<String>),
}

fn section_key(page: &str) -> SectionKey {
    if is_web(page)
        && let Ok(url) = url::Url::parse(page)
    {
        let host = url.host_str().unwrap_or("").to_string();
        let segments: Vec<&str> = url.path_segments().map_or(Vec::new(), Iterator::collect);
        let first = if segments.len() > 1 {
            segments[0].to_string()
        } else {
            String::new()
        };
        return SectionKey::Url(host, first);
    }
    let mut parts: Vec<String> = page.split(['/', '\\']).map(str::to_string).collect();
    parts.pop();
    SectionKey::Folder(parts)
}

#[derive(Debug, Clone)]
struct PageCount {
    seq: usize,
    page: String,
    counts: Counts,
}

impl PageCount {
    fn rank(&self) -> (std::cmp::Reverse<Counts>, usize) {
        (std::cmp::Reverse(self.counts), self.seq)
    }
}

/// The distinct disclosure excerpts of one page, in order of first use.
#[derive(Default)]
struct Excerpts<'a> {
    list: Vec<String>,
    index: HashMap<&'a str, i64>,
}

impl<'a> Excerpts<'a> {
    /// The position of `excerpt` in the list (added when new), -1 for none.
    fn index(&mut self, excerpt: &'a str) -> i64 {
        if excerpt.is_empty() {
            return -1;
        }
        if let Some(&i) = self.index.get(excerpt) {
            return i;
        }
        self.list.push(printable(excerpt).into_owned());
        let i = self.list.len() as i64 - 1;
        self.index.insert(excerpt, i);
        i
    }
}

/// One bar of a chart.
struct Bar {
    label: String,
    counts: Counts,
}

/// The HTML report: page data streamed into the document as it comes, the visible part written in
/// `finish`.
pub struct HtmlReport<W: Write> {
    out: W,
    /// Page entries written to the data element.
    entries: usize,
    /// Pages seen (for the worst-pages order).
    seq: usize,
    by_rule: BTreeMap<Rule, Counts>,
    rule_index: HashMap<Rule, usize>,
    rules: Vec<Rule>,
    network_index: HashMap<String, usize>,
    networks: Vec<String>,
    by_network: Vec<Counts>,
    url_sections: BTreeMap<(String, String), SectionCount>,
    folder_sections: BTreeMap<Vec<String>, SectionCount>,
    links: usize,
    compliant: usize,
    worst: Vec<PageCount>,
    failed: Vec<(String, String)>,
}

impl<W: Write> HtmlReport<W> {
    /// Starts the document: head, styles, title and the opening of the data element.
    pub fn new(mut out: W) -> io::Result<Self> {
        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"affcheck {}\">\n\
             <title>Affiliate disclosure audit (affcheck)</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
             <header class=\"top\"><h1>Affiliate disclosure audit</h1>\n\
             <nav aria-label=\"Sections of the report\"><a href=\"#overview\">Overview</a> \
             <a href=\"#charts\">Charts</a> <a href=\"#worst\">Worst pages</a> \
             <a href=\"#findings\">Findings</a> <a href=\"#pages\">Pages</a></nav></header>\n\
             <script type=\"application/json\" id=\"affcheck-pages\">[",
            env!("CARGO_PKG_VERSION")
        )?;
        Ok(HtmlReport {
            out,
            entries: 0,
            seq: 0,
            by_rule: BTreeMap::new(),
            rule_index: HashMap::new(),
            rules: Vec::new(),
            network_index: HashMap::new(),
            networks: Vec::new(),
            by_network: Vec::new(),
            url_sections: BTreeMap::new(),
            folder_sections: BTreeMap::new(),
            links: 0,
            compliant: 0,
            worst: Vec::new(),
            failed: Vec::new(),
        })
    }

    fn rule(&mut self, rule: Rule) -> usize {
        if let Some(&i) = self.rule_index.get(&rule) {
            return i;
        }
        self.rules.push(rule);
        self.rule_index.insert(rule, self.rules.len() - 1);
        self.rules.len() - 1
    }

    fn network(&mut self, name: &str) -> usize {
        if let Some(&i) = self.network_index.get(name) {
            return i;
        }
        let shown = printable(name).into_owned();
        self.networks.push(shown);
        self.by_network.push([0; 3]);
        self.network_index
            .insert(name.to_string(), self.networks.len() - 1);
        self.networks.len() - 1
    }

    /// The compact JSON entry of a page: `u` the page, `x` the disclosure excerpts its rows name,
    /// `l` its links as `[url, text, network, line, status, excerpt, strength]` (status: a rule
    /// index or -1 for compliant; strength 0 none, 1 label, 2 explicit), `f` its findings as
    /// `[rule, severity, line, excerpt, message, link]` (link: the index in `l` the finding is
    /// about) or, for a finding on no listed link, `[rule, severity, line, excerpt, message, -1,
    /// url, text, network]`. Excerpt -1 is none.
    fn entry(&mut self, page: &PageReport) -> Value {
        let mut excerpts = Excerpts::default();
        let mut by_link: HashMap<(u32, &str, &str), usize> = HashMap::new();
        let mut links = Vec::with_capacity(page.links.len());
        for (k, l) in page.links.iter().enumerate() {
            by_link
                .entry((l.line, &*l.link_url, &*l.link_text))
                .or_insert(k);
            let status = match l.status {
                LinkStatus::Compliant => -1,
                LinkStatus::Violation(rule) => self.rule(rule) as i64,
            };
            let strength = match l.disclosure_strength {
                None => 0,
                Some(Strength::Label) => 1,
                Some(Strength::Explicit) => 2,
            };
            let network = self.network(&l.network);
            links.push(json!([
                printable(&l.link_url),
                printable(&l.link_text),
                network,
                l.line,
                status,
                excerpts.index(&l.disclosure_excerpt),
                strength
            ]));
        }
        let mut findings = Vec::with_capacity(page.findings.len());
        for f in &page.findings {
            let rule = self.rule(f.rule);
            let sev = sev_index(f.severity);
            let x = excerpts.index(&f.disclosure_excerpt);
            let message = printable(&f.message);
            let link = by_link
                .get(&(f.line, &*f.link_url, &*f.link_text))
                .filter(|&&k| page.links[k].network == f.network);
            findings.push(match link {
                Some(&k) => json!([rule, sev, f.line, x, message, k]),
                None => {
                    let network = self.network(&f.network);
                    json!([
                        rule,
                        sev,
                        f.line,
                        x,
                        message,
                        -1,
                        printable(&f.link_url),
                        printable(&f.link_text),
                        network
                    ])
                }
            });
        }
        json!({
            "u": printable(&page.page_url),
            "x": excerpts.list,
            "l": links,
            "f": findings,
        })
    }

    fn count(&mut self, page: &PageReport) -> Counts {
        let mut counts = [0; 3];
        for f in &page.findings {
            let s = sev_index(f.severity);
            counts[s] += 1;
            self.by_rule.entry(f.rule).or_default()[s] += 1;
            let n = self.network(&f.network);
            self.by_network[n][s] += 1;
        }
        self.links += page.links.len();
        self.compliant += page
            .links
            .iter()
            .filter(|l| l.status == LinkStatus::Compliant)
            .count();
        let section = SectionCount {
            pages: 1,
            links: page.links.len(),
            counts,
        };
        match section_key(&page.page_url) {
            SectionKey::Url(host, first) => self
                .url_sections
                .entry((host, first))
                .or_default()
                .add(&section),
            SectionKey::Folder(dir) => self.folder_sections.entry(dir).or_default().add(&section),
        }
        counts
    }

    /// Violations by site section: a URL's first path segment (with the host when the run saw
    /// several), a file's first folder below the folder all pages share.
    fn sections(&self) -> BTreeMap<String, SectionCount> {
        let mut out: BTreeMap<String, SectionCount> = BTreeMap::new();
        let hosts: BTreeSet<&str> = self.url_sections.keys().map(|(h, _)| h.as_str()).collect();
        for ((host, first), c) in &self.url_sections {
            let host = if hosts.len() > 1 { host.as_str() } else { "" };
            let label = if first.is_empty() {
                format!("{host}/ (top level)")
            } else {
                format!("{host}/{first}/")
            };
            out.entry(label).or_default().add(c);
        }
        let mut common: Option<&[String]> = None;
        for dir in self.folder_sections.keys() {
            common = Some(match common {
                None => dir,
                Some(c) => {
                    let n = c.iter().zip(dir).take_while(|(a, b)| a == b).count();
                    &c[..n]
                }
            });
        }
        let depth = common.map_or(0, <[String]>::len);
        for (dir, c) in &self.folder_sections {
            let label = match dir.get(depth) {
                Some(first) => format!("{first}/"),
                None => "(top level)".to_string(),
            };
            out.entry(label).or_default().add(c);
        }
        out
    }

    fn chart_bars(mut bars: Vec<Bar>, what: &str) -> Vec<Bar> {
        bars.retain(|b| b.counts.iter().sum::<usize>() > 0);
        bars.sort_by_key(|b| std::cmp::Reverse(b.counts.iter().sum::<usize>()));
        if bars.len() > CHART_BARS {
            let rest = bars.split_off(CHART_BARS - 1);
            let mut counts = [0; 3];
            for b in &rest {
                for (a, n) in counts.iter_mut().zip(b.counts) {
                    *a += n;
                }
            }
            bars.push(Bar {
                label: format!("{} other {what}", rest.len()),
                counts,
            });
        }
        bars
    }

    fn document(&mut self, s: &Summary) -> String {
        let total: usize = s.by_severity.values().sum();
        let sev = |v: Severity| s.by_severity.get(&v).copied().unwrap_or(0);
        let mut h = String::with_capacity(32 * 1024);
        h.push_str("<main>\n<section id=\"overview\" aria-labelledby=\"overview-h\">\n<h2 id=\"overview-h\" class=\"visually-hidden\">Overview</h2>\n<div class=\"figures\">\n");

        let mut not_audited = Vec::new();
        if s.skipped > 0 {
            not_audited.push(format!("{} skipped (not HTML)", thousands(s.skipped)));
        }
        if s.failed > 0 {
            not_audited.push(format!("{} could not be read", thousands(s.failed)));
        }
        if s.ignored > 0 {
            not_audited.push(format!("{} ignored by the config", thousands(s.ignored)));
        }
        let pages_note = if not_audited.is_empty() {
            "every page read was audited".to_string()
        } else {
            not_audited.join(" · ")
        };
        figure(
            &mut h,
            "pages",
            "",
            &thousands(s.pages),
            if s.pages == 1 {
                "page audited"
            } else {
                "pages audited"
            },
            &html_escape(&pages_note),
        );
        figure(
            &mut h,
            "links",
            "",
            &thousands(s.affiliate_links),
            if s.affiliate_links == 1 {
                "affiliate link"
            } else {
                "affiliate links"
            },
            &format!(
                "{} with a violation",
                thousands(self.links - self.compliant)
            ),
        );
        let breakdown: Vec<String> = [
            (Severity::Error, "error", "errors"),
            (Severity::Warning, "warning", "warnings"),
            (Severity::Notice, "notice", "notices"),
        ]
        .into_iter()
        .map(|(v, one, many)| {
            let n = sev(v);
            format!(
                "<span class=\"sev sev-{}{}\" data-severity=\"{one}\">{}</span>",
                sev_index(v),
                if n == 0 { " zero" } else { "" },
                plural(n, one, many)
            )
        })
        .collect();
        let breakdown = breakdown.join(" ");
        figure(
            &mut h,
            "violations",
            if sev(Severity::Error) > 0 {
                " bad"
            } else if total == 0 {
                " good"
            } else {
                ""
            },
            &thousands(total),
            if total == 1 {
                "violation"
            } else {
                "violations"
            },
            &breakdown,
        );
        // Rounded down, so that one non-compliant link in thousands never shows 100.0%.
        let (share, share_note) = match (self.compliant * 1000).checked_div(self.links) {
            None => ("–".to_string(), "no affiliate links found".to_string()),
            Some(tenths) => (
                format!("{}.{}%", tenths / 10, tenths % 10),
                format!(
                    "{} of {} compliant",
                    thousands(self.compliant),
                    plural(self.links, "link", "links")
                ),
            ),
        };
        figure(
            &mut h,
            "compliant",
            if self.links > 0 && self.compliant == self.links {
                " good"
            } else {
                ""
            },
            &share,
            "of affiliate links compliant",
            &share_note,
        );
        h.push_str("</div>\n");
        if let Some(b) = &s.baseline {
            let _ = writeln!(
                h,
                "<p class=\"note\">Baseline: {} known and not shown, {} fixed since the baseline. The figures count new findings only.</p>",
                plural(b.baselined, "finding", "findings"),
                thousands(b.fixed)
            );
        }
        h.push_str("</section>\n");

        // Charts.
        h.push_str("<section id=\"charts\" aria-labelledby=\"charts-h\">\n<h2 id=\"charts-h\">Violations</h2>\n<p class=\"legend\" aria-hidden=\"true\"><span class=\"key sev-0\"></span>error <span class=\"key sev-1\"></span>warning <span class=\"key sev-2\"></span>notice</p>\n<div class=\"charts\">\n");
        let rule_bars: Vec<Bar> = self
            .by_rule
            .iter()
            .map(|(r, c)| Bar {
                label: r.id().to_string(),
                counts: *c,
            })
            .collect();
        let network_bars: Vec<Bar> = self
            .networks
            .iter()
            .zip(&self.by_network)
            .map(|(n, c)| Bar {
                label: if n.is_empty() {
                    "(no network)".to_string()
                } else {
                    n.clone()
                },
                counts: *c,
            })
            .collect();
        let section_bars: Vec<Bar> = self
            .sections()
            .into_iter()
            .map(|(label, c)| Bar {
                label,
                counts: c.counts,
            })
            .collect();
        for (id, title, bars, what) in [
            ("by-rule", "By rule", rule_bars, "rules"),
            ("by-network", "By network", network_bars, "networks"),
            ("by-section", "By site section", section_bars, "sections"),
        ] {
            let bars = Self::chart_bars(bars, what);
            let _ = writeln!(
                h,
                "<figure class=\"chart-box\" id=\"chart-{id}\"><figcaption>{title}</figcaption>{}</figure>",
                bar_chart(id, title, &bars)
            );
        }
        h.push_str("</div>\n</section>\n");

        // Worst pages.
        self.worst.sort_by_key(PageCount::rank);
        self.worst.truncate(WORST_PAGES);
        let _ = writeln!(
            h,
            "<section id=\"worst\" aria-labelledby=\"worst-h\">\n<h2 id=\"worst-h\">Pages with the most violations</h2>"
        );
        if self.worst.is_empty() {
            h.push_str("<p class=\"empty\">No page has a violation.</p>\n");
        } else {
            h.push_str("<table class=\"worst\"><thead><tr><th scope=\"col\">Page</th><th scope=\"col\" class=\"num\">Errors</th><th scope=\"col\" class=\"num\">Warnings</th><th scope=\"col\" class=\"num\">Notices</th><th scope=\"col\" class=\"num\">Total</th></tr></thead><tbody>\n");
            for p in &self.worst {
                let _ = writeln!(
                    h,
                    "<tr><td class=\"c-page\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    page_link(&p.page),
                    thousands(p.counts[0]),
                    thousands(p.counts[1]),
                    thousands(p.counts[2]),
                    thousands(p.counts.iter().sum()),
                );
            }
            h.push_str("</tbody></table>\n");
        }
        h.push_str("</section>\n");

        // The findings table, drawn by the script.
        let _ = write!(
            h,
            "<section id=\"findings\" aria-labelledby=\"findings-h\">\n<h2 id=\"findings-h\">Findings</h2>\n\
             <noscript><p class=\"note\">The table of findings and the page list are drawn by the report's script; allow scripts for this file to see them. The figures and charts above are complete.</p></noscript>\n\
             <div class=\"filters\" role=\"search\">\n\
             <label>Filter <input type=\"search\" id=\"q\" placeholder=\"page, link, text, message…\" autocomplete=\"off\"></label>\n\
             <label>Rule <select id=\"rule-filter\"><option value=\"\">all rules</option>"
        );
        for rule in self.by_rule.keys() {
            let _ = write!(
                h,
                "<option value=\"{}\">{}</option>",
                self.rule_index[rule],
                html_escape(rule.id())
            );
        }
        h.push_str("</select></label>\n<label>Severity <select id=\"sev-filter\"><option value=\"\">all severities</option>");
        for (i, name) in SEVERITIES.iter().enumerate() {
            let _ = write!(h, "<option value=\"{i}\">{name}</option>");
        }
        h.push_str("</select></label>\n</div>\n<p id=\"findings-status\" class=\"status\" role=\"status\" aria-live=\"polite\"></p>\n<div class=\"table-wrap\"><table id=\"findings-table\" class=\"findings\"><thead><tr>");
        for (key, label, class) in [
            ("page", "Page", "c-page"),
            ("line", "Line", "num"),
            ("rule", "Rule", ""),
            ("sev", "Severity", ""),
            ("net", "Network", ""),
            ("text", "Link text", ""),
            ("url", "Link URL", "c-url"),
            ("ex", "Disclosure excerpt", ""),
            ("msg", "Message", "c-msg"),
        ] {
            let _ = write!(
                h,
                "<th scope=\"col\" class=\"{class}\" aria-sort=\"none\" data-label=\"{label}\"><button type=\"button\" data-col=\"{key}\">{label}</button></th>"
            );
        }
        h.push_str("</tr></thead><tbody id=\"findings-body\"></tbody></table></div>\n<p class=\"more-row\"><button type=\"button\" id=\"findings-more\" class=\"more\" hidden>Show more findings</button></p>\n</section>\n");

        // The per-page view, drawn by the script.
        let _ = write!(
            h,
            "<section id=\"pages\" aria-labelledby=\"pages-h\">\n<h2 id=\"pages-h\">Pages and their affiliate links</h2>\n\
             <p class=\"intro\">Every audited page with affiliate links or violations ({} of {}); open a page to see each affiliate link, its verdict and the disclosure it was judged on.</p>\n\
             <div class=\"filters\" role=\"search\"><label>Filter pages <input type=\"search\" id=\"page-q\" placeholder=\"page address…\" autocomplete=\"off\"></label>\n\
             <label class=\"check\"><input type=\"checkbox\" id=\"page-bad\"> only pages with violations</label>\n\
             <button type=\"button\" id=\"pages-expand\">Open all shown</button></div>\n\
             <p id=\"pages-status\" class=\"status\" role=\"status\" aria-live=\"polite\"></p>\n\
             <div id=\"page-list\"></div>\n<p class=\"more-row\"><button type=\"button\" id=\"pages-more\" class=\"more\" hidden>Show more pages</button></p>\n</section>\n",
            thousands(self.entries),
            plural(s.pages, "page", "pages"),
        );

        if !self.failed.is_empty() {
            h.push_str("<section id=\"failed\" aria-labelledby=\"failed-h\">\n<h2 id=\"failed-h\">Not audited: could not be read</h2>\n<ul class=\"failed\">\n");
            for (target, error) in &self.failed {
                let _ = writeln!(
                    h,
                    "<li><span class=\"page-url\">{}</span>: {}</li>",
                    text(target),
                    text(error)
                );
            }
            if s.failed > self.failed.len() {
                let _ = writeln!(
                    h,
                    "<li>… and {} more (see the errors file or the run's output)</li>",
                    thousands(s.failed - self.failed.len())
                );
            }
            h.push_str("</ul>\n</section>\n");
        }
        let _ = writeln!(
            h,
            "</main>\n<footer><p>Written by affcheck {} in {:.2} s. Violations are findings of affcheck's rules; see the rule ids in affcheck's README for what each means and how to fix it.</p></footer>",
            env!("CARGO_PKG_VERSION"),
            s.elapsed.as_secs_f64()
        );
        h
    }
}

/// A headline figure.
fn figure(h: &mut String, key: &str, class: &str, value: &str, label: &str, note: &str) {
    let _ = writeln!(
        h,
        "<div class=\"figure{class}\" data-figure=\"{key}\"><div class=\"value\">{value}</div><div class=\"label\">{label}</div><div class=\"sub\">{note}</div></div>"
    );
}

/// A page as a link when it is a web address (without characters [`printable`] would escape),
/// else as text.
fn page_link(page: &str) -> String {
    if is_web(page) && matches!(printable(page), Cow::Borrowed(_)) {
        format!(
            "<a class=\"page-url\" href=\"{}\" rel=\"noreferrer\">{}</a>",
            html_escape(page),
            text(page)
        )
    } else {
        format!("<span class=\"page-url\">{}</span>", text(page))
    }
}

/// A horizontal bar chart in SVG: one row per bar, stacked by severity, the total after it.
fn bar_chart(id: &str, title: &str, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return "<p class=\"empty\">No violations.</p>".to_string();
    }
    const WIDTH: usize = 640;
    const LABEL: f64 = 232.0;
    const BAR: f64 = 330.0;
    const ROW: usize = 26;
    let max = bars
        .iter()
        .map(|b| b.counts.iter().sum::<usize>())
        .max()
        .unwrap_or(1)
        .max(1);
    let height = ROW * bars.len() + 8;
    let mut s = format!(
        "<svg class=\"chart\" id=\"{id}\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-labelledby=\"{id}-title\"><title id=\"{id}-title\">Violations {}</title>",
        html_escape(&title.to_lowercase())
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 4 + i * ROW;
        let total: usize = b.counts.iter().sum();
        let label = text(&b.label);
        let _ = write!(
            s,
            "<g class=\"bar\"><title>{label}: {} ({} errors, {} warnings, {} notices)</title><text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            thousands(total),
            thousands(b.counts[0]),
            thousands(b.counts[1]),
            thousands(b.counts[2]),
            LABEL - 8.0,
            y + 17,
            text(&truncate(&b.label, 34)),
        );
        let mut x = LABEL;
        for (sev, &n) in b.counts.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let w = (BAR * n as f64 / max as f64).max(2.0);
            let _ = write!(
                s,
                "<rect class=\"sev-{sev}\" x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"18\" data-count=\"{n}\"></rect>",
                y + 4
            );
            x += w;
        }
        let _ = write!(
            s,
            "<text class=\"count\" x=\"{:.1}\" y=\"{}\">{}</text></g>",
            x + 6.0,
            y + 17,
            thousands(total)
        );
    }
    s.push_str("</svg>");
    s
}

impl<W: Write> ReportWriter for HtmlReport<W> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        self.seq += 1;
        let counts = self.count(page);
        if counts.iter().sum::<usize>() > 0 {
            self.worst.push(PageCount {
                seq: self.seq,
                page: page.page_url.clone(),
                counts,
            });
            if self.worst.len() > WORST_PAGES * 4 {
                self.worst.sort_by_key(PageCount::rank);
                self.worst.truncate(WORST_PAGES);
            }
        }
        if page.links.is_empty() && page.findings.is_empty() {
            return Ok(());
        }
        let entry = self.entry(page);
        let json = serde_json::to_vec(&entry)?;
        if self.entries > 0 {
            self.out.write_all(b",\n")?;
        } else {
            self.out.write_all(b"\n")?;
        }
        self.entries += 1;
        self.out.write_all(&script_safe_json(&json))
    }

    fn write_failed(&mut self, target: &str, error: &str) -> io::Result<()> {
        if self.failed.len() < FAILURES_LISTED {
            self.failed.push((target.to_string(), error.to_string()));
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.out.write_all(b"\n]</script>\n")?;
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|r| {
                json!({
                    "id": r.id(),
                    "title": rule_title(*r),
                    "sev": sev_index(r.severity()),
                })
            })
            .collect();
        let meta = json!({
            "rules": rules,
            "networks": self.networks,
            "findings": summary.by_severity.values().sum::<usize>(),
            "pages": summary.pages,
        });
        self.out
            .write_all(b"<script type=\"application/json\" id=\"affcheck-meta\">")?;
        self.out
            .write_all(&script_safe_json(&serde_json::to_vec(&meta)?))?;
        self.out.write_all(b"</script>\n")?;
        let document = self.document(summary);
        self.out.write_all(document.as_bytes())?;
        write!(self.out, "<script>\n{SCRIPT}</script>\n</body>\n</html>\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::report;

    fn render(pages: &[PageReport]) -> String {
        let mut w = HtmlReport::new(Vec::new()).unwrap();
        let mut summary = Summary::default();
        for p in pages {
            summary.add(p);
            w.write_page(p).unwrap();
        }
        w.finish(&summary).unwrap();
        String::from_utf8(w.out).unwrap()
    }

    #[test]
    fn json_in_a_script_cannot_end_it() {
        let raw = "{\"a\":\"</script><!--<script>\u{2028}\u{2029}&x\"}";
        let safe = String::from_utf8(script_safe_json(raw.as_bytes())).unwrap();
        assert!(!safe.contains('<') && !safe.contains('\u{2028}') && !safe.contains('\u{2029}'));
        let back: Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["a"], "</script><!--<script>\u{2028}\u{2029}&x");
    }

    #[test]
    fn escapes_and_numbers() {
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert!(is_web("HTTPS://x") && !is_web("javascript:alert(1)") && !is_web("site/a.html"));
    }

    #[test]
    fn hostile_page_text_stays_text() {
        let mut page = report();
        let hostile = "</script><img src=x onerror=alert(1)>\u{1b}[31m\u{202e}";
        page.page_url = format!("https://s.example/{hostile}");
        page.findings[0].page_url = page.page_url.as_str().into();
        page.findings[0].link_text = hostile.into();
        page.findings[0].network = hostile.into();
        page.findings[0].message = hostile.into();
        let html = render(&[page]);
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("onerror=alert(1)>"), "{html}");
        assert_eq!(
            html.matches("</script>").count(),
            3,
            "two data elements and the script"
        );
        assert!(!html.contains('\u{1b}') && !html.contains('\u{202e}'));
        assert!(
            html.contains("\\\\u{1b}"),
            "control characters shown as escapes"
        );
    }

    #[test]
    fn figures_and_bars() {
        let mut clean = report();
        clean.page_url = "https://s.example/guides/clean.html".into();
        clean.findings.clear();
        let html = render(&[report(), report(), clean]);
        assert!(
            html.contains("data-figure=\"pages\"><div class=\"value\">3</div>"),
            "{html}"
        );
        assert!(
            html.contains("data-figure=\"violations\"><div class=\"value\">2</div>"),
            "{html}"
        );
        assert!(html.contains("id=\"by-rule\""));
        assert_eq!(
            html.matches("<rect class=\"sev-0\"").count(),
            3,
            "rule, network, section"
        );
        assert!(html.contains("/ (top level)"), "{html}");
    }

    #[test]
    fn sections_of_urls_and_folders() {
        let mut w = HtmlReport::new(Vec::new()).unwrap();
        for page in [
            "https://a.test/reviews/x.html",
            "https://a.test/reviews/y/z.html",
            "https://a.test/about.html",
            "site/blog/a.html",
            "site/b.html",
        ] {
            let mut p = report();
            p.page_url = page.into();
            w.write_page(&p).unwrap();
        }
        let labels: Vec<String> = w.sections().into_keys().collect();
        assert_eq!(
            labels,
            ["(top level)", "/ (top level)", "/reviews/", "blog/"]
        );
    }
}
