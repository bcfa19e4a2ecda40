//! GitHub Actions workflow commands: each finding becomes an `::error`, `::warning` or `::notice`
//! line, which GitHub shows as an annotation on the file and line in pull requests.

use std::io::{self, Write};

use super::{Locations, ReportWriter, Summary, printable, printable_keeping};
use crate::findings::{Finding, PageReport, Severity};

/// Escapes a workflow command's message: `%` → `%25`, carriage return → `%0D`, line feed → `%0A`.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value: as [`escape_data`], plus `:` → `%3A` and
/// `,` → `%2C`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The workflow command for a severity.
fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice => "notice",
    }
}

/// Writes one workflow command per finding:
/// `::error file=PATH,line=N,title=RULE::MESSAGE Link: URL`. `file` and `line` are given only when
/// the page has a repository file ([`Locations::repo_path`]); otherwise the page URL starts the
/// message. Print the file to the job log (`cat report.github.txt`) for GitHub to pick it up.
pub struct GithubReport<W: Write> {
    out: W,
    locations: Locations,
}

impl<W: Write> GithubReport<W> {
    /// A GitHub annotations writer.
    pub fn new(out: W, locations: Locations) -> Self {
        GithubReport { out, locations }
    }

    /// The command line for one finding (without the line feed).
    pub fn line(&self, f: &Finding) -> String {
        let mut props = Vec::new();
        let mut message = String::new();
        match self.locations.repo_path(&f.page_url) {
            Some(path) => {
                props.push(format!("file={}", escape_property(&printable(&path))));
                if f.line > 0 {
                    props.push(format!("line={}", f.line));
                }
            }
            None => {
                message.push_str(&f.page_url);
                message.push_str(": ");
            }
        }
        props.push(format!("title={}", escape_property(f.rule.id())));
        message.push_str(&f.message);
        if !f.link_url.is_empty() {
            message.push_str(" Link: ");
            message.push_str(&f.link_url);
        }
        format!(
            "::{} {}::{}",
            command(f.severity),
            props.join(","),
            escape_data(&printable_keeping(&message, &['\r', '\n']))
        )
    }
}

impl<W: Write> ReportWriter for GithubReport<W> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        for f in &page.findings {
            let line = self.line(f);
            writeln!(self.out, "{line}")?;
        }
        self.out.flush()
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::report;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("100% a\r\nb:c,d"), "100%25 a%0D%0Ab:c,d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn url_pages_put_the_url_in_the_message() {
        let mut buf = Vec::new();
        let mut w = GithubReport::new(&mut buf, Locations::default());
        w.write_page(&report()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "::error title=undisclosed::https://s.example/a.html: m Link: https://www.amazon.com/dp/B1?tag=x-20&a=1\n"
        );
    }

    #[test]
    fn file_pages_get_file_and_line() {
        let w = GithubReport::new(Vec::new(), Locations::default());
        let mut f = report().findings.remove(0);
        f.page_url = "site/a,b:c.html".into();
        f.severity = Severity::Notice;
        f.message = "50% off\nnow".into();
        assert_eq!(
            w.line(&f),
            "::notice file=site/a%2Cb%3Ac.html,line=7,title=undisclosed::50%25 off%0Anow Link: https://www.amazon.com/dp/B1?tag=x-20&a=1"
        );
    }
}
