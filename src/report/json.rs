//! JSON and JSON Lines reports. Findings carry the CSV columns as fields (`line` as a number, no
//! spreadsheet guard), and, when the finding names a disclosure, its `disclosure_strength`
//! (`explicit` or `label`) and `disclosure_rule` (the wording rule that read it); the summary is
//! [`Summary`]'s JSON form.

use std::io::{self, Write};

use serde::Serialize;

use super::{ReportWriter, Summary};
use crate::findings::PageReport;

/// One JSON document, streamed: `{"findings":[{…},…],"summary":{…}}`. Each finding has the CSV
/// report's fields: `page_url`, `rule`, `severity`, `link_url`, `network`, `link_text`, `line`,
/// `disclosure_excerpt`, `message`.
pub struct JsonReport<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonReport<W> {
    /// Starts the document.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(b"{\"findings\":[")?;
        Ok(JsonReport { out, first: true })
    }
}

impl<W: Write> ReportWriter for JsonReport<W> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        for f in &page.findings {
            self.out
                .write_all(if self.first { b"\n" } else { b",\n" })?;
            self.first = false;
            serde_json::to_writer(&mut self.out, f)?;
        }
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.out.write_all(b"\n],\"summary\":")?;
        serde_json::to_writer(&mut self.out, summary)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}

/// A value with a `"type"` field in front of its own fields.
#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    inner: &'a T,
}

/// JSON Lines: one `{"type":"finding",…}` object per finding (the JSON report's fields), then one
/// `{"type":"summary",…}` line.
pub struct JsonLinesReport<W: Write> {
    out: W,
}

impl<W: Write> JsonLinesReport<W> {
    /// A JSON Lines writer.
    pub fn new(out: W) -> Self {
        JsonLinesReport { out }
    }
}

impl<W: Write> ReportWriter for JsonLinesReport<W> {
    fn write_page(&mut self, page: &PageReport) -> io::Result<()> {
        for f in &page.findings {
            serde_json::to_writer(
                &mut self.out,
                &Tagged {
                    kind: "finding",
                    inner: f,
                },
            )?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        serde_json::to_writer(
            &mut self.out,
            &Tagged {
                kind: "summary",
                inner: summary,
            },
        )?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::report;

    #[test]
    fn json_document_and_lines() {
        let mut buf = Vec::new();
        let mut w = JsonReport::new(&mut buf).unwrap();
        w.write_page(&report()).unwrap();
        w.write_page(&report()).unwrap();
        let mut summary = Summary::default();
        summary.add(&report());
        w.finish(&summary).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["findings"].as_array().unwrap().len(), 2);
        assert_eq!(v["findings"][0]["rule"], "undisclosed");
        assert_eq!(v["findings"][0]["line"], 7);
        assert_eq!(v["findings"][0]["link_text"], "=HYPERLINK(\"http://evil\")");
        assert_eq!(v["summary"]["findings"], 1);
        assert_eq!(v["summary"]["by_rule"]["undisclosed"], 1);

        let mut buf = Vec::new();
        let mut w = JsonLinesReport::new(&mut buf);
        w.write_page(&report()).unwrap();
        w.finish(&summary).unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["type"], "finding");
        assert_eq!(lines[0]["severity"], "error");
        assert_eq!(lines[1]["type"], "summary");
        assert_eq!(lines[1]["pages"], 1);
    }

    #[test]
    fn empty_json_is_valid() {
        let mut buf = Vec::new();
        let mut w = JsonReport::new(&mut buf).unwrap();
        w.finish(&Summary::default()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert!(v["findings"].as_array().unwrap().is_empty());
    }
}
