//! Writing WARC 1.0 records: [`WarcWriter`], [`encode_record`] and [`http_response_block`].

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

/// Writes WARC 1.0 records, each its own gzip member when `gzip` is set (the `.warc.gz` layout).
/// Every record goes out in one `write_all` call, so a process killed between records leaves only
/// whole records behind.
pub struct WarcWriter<W: Write> {
    out: W,
    gzip: bool,
}

impl<W: Write> WarcWriter<W> {
    /// A writer on `out`.
    pub fn new(out: W, gzip: bool) -> Self {
        WarcWriter { out, gzip }
    }

    /// Writes one record: `WARC-Type`, `WARC-Record-ID`, `WARC-Date`, the given fields, then
    /// `Content-Length` and the block. Returns the record id.
    pub fn write_record(
        &mut self,
        warc_type: &str,
        fields: &[(&str, &str)],
        block: &[u8],
    ) -> io::Result<String> {
        let (id, bytes) = encode_record(warc_type, fields, block, self.gzip)?;
        self.write_encoded(&bytes)?;
        Ok(id)
    }

    /// Writes a record made by [`encode_record`] (which may run outside a lock) in one call.
    pub fn write_encoded(&mut self, record: &[u8]) -> io::Result<()> {
        self.out.write_all(record)?;
        self.out.flush()
    }

    /// Writes a `warcinfo` record naming the file and the software.
    pub fn write_warcinfo(
        &mut self,
        filename: &str,
        fields: &[(&str, &str)],
    ) -> io::Result<String> {
        let mut block = String::new();
        for (name, value) in fields {
            block.push_str(&format!("{name}: {value}\r\n"));
        }
        self.write_record(
            "warcinfo",
            &[
                ("WARC-Filename", filename),
                ("Content-Type", "application/warc-fields"),
            ],
            block.as_bytes(),
        )
    }

    /// Writes a `response` record for `target_uri` whose block is the HTTP message built by
    /// [`http_response_block`].
    pub fn write_response(
        &mut self,
        target_uri: &str,
        http_block: &[u8],
        warcinfo_id: Option<&str>,
    ) -> io::Result<String> {
        let mut fields = vec![
            ("WARC-Target-URI", target_uri),
            ("Content-Type", "application/http; msgtype=response"),
        ];
        if let Some(id) = warcinfo_id {
            fields.push(("WARC-Warcinfo-ID", id));
        }
        self.write_record("response", &fields, http_block)
    }

    /// The underlying writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

/// One record as bytes, a gzip member of its own when `gzip`: the version line, `WARC-Type`,
/// `WARC-Record-ID` (a fresh random UUID), `WARC-Date` (now), `fields`, `Content-Length`, the
/// block and the closing blank lines. Returns the record id and the bytes.
pub fn encode_record(
    warc_type: &str,
    fields: &[(&str, &str)],
    block: &[u8],
    gzip: bool,
) -> io::Result<(String, Vec<u8>)> {
    let id = record_id();
    let date = format_date(SystemTime::now());
    let mut head = String::with_capacity(512);
    head.push_str("WARC/1.0\r\n");
    for (name, value) in [
        ("WARC-Type", warc_type),
        ("WARC-Record-ID", id.as_str()),
        ("WARC-Date", date.as_str()),
    ]
    .into_iter()
    .chain(fields.iter().copied())
    {
        // Header values cannot hold line breaks.
        let value: String = value
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        head.push_str(name);
        head.push_str(": ");
        head.push_str(&value);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", block.len()));
    let mut record = Vec::with_capacity(head.len() + block.len() + 4);
    record.extend_from_slice(head.as_bytes());
    record.extend_from_slice(block);
    record.extend_from_slice(b"\r\n\r\n");
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(
            Vec::with_capacity(record.len() / 3 + 64),
            flate2::Compression::default(),
        );
        enc.write_all(&record)?;
        record = enc.finish()?;
    }
    Ok((id, record))
}

/// The HTTP message of a `response` record: the status line, the headers without
/// `Content-Encoding`, `Transfer-Encoding` and `Content-Length` (the stored body is decoded), a
/// `Content-Length` of the body, and the body.
pub fn http_response_block(status: u16, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let reason = reason_phrase(status);
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        if ["content-encoding", "transfer-encoding", "content-length"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        let value: String = value
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut block = head.into_bytes();
    block.extend_from_slice(body);
    block
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        410 => "Gone",
        _ => "",
    }
}

/// A `<urn:uuid:…>` record id holding a random (version 4) UUID.
fn record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::new_v4())
}

/// A `WARC-Date`: ISO 8601 UTC to the second (`2024-05-01T12:00:00Z`).
fn format_date(t: SystemTime) -> String {
    // humantime panics outside years 1970 to 9999; a clock set before 1970 gives the epoch (as
    // the hand-written formatter did), one past 9999 the last second it can write.
    let last = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    humantime::format_rfc3339_seconds(t.clamp(SystemTime::UNIX_EPOCH, last)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warc::testutil::*;
    use crate::warc::{Record, response_document};

    #[test]
    fn writer_output_reads_back_plain_and_gzip() {
        for gzip in [false, true] {
            let mut w = WarcWriter::new(Vec::new(), gzip);
            let info = w
                .write_warcinfo("x.warc", &[("software", "affcheck")])
                .unwrap();
            let block = http_response_block(
                200,
                &[
                    ("Content-Type".into(), "text/html".into()),
                    ("Content-Encoding".into(), "gzip".into()),
                    ("Content-Length".into(), "9".into()),
                ],
                b"<p>hi</p>",
            );
            w.write_response("https://s.example/", &block, Some(&info))
                .unwrap();
            let bytes = std::mem::take(w.get_mut());
            let recs: Vec<Record> = read_all(&bytes).into_iter().map(Result::unwrap).collect();
            assert_eq!(recs.len(), 2);
            assert_eq!(recs[0].headers.warc_type(), "warcinfo");
            assert_eq!(recs[1].headers.get("WARC-Warcinfo-ID"), Some(info.as_str()));
            let doc = response_document(recs[1].clone(), 1000).unwrap();
            assert_eq!(doc.bytes, b"<p>hi</p>");
            let text = String::from_utf8_lossy(recs[1].block.as_ref().unwrap()).to_string();
            assert!(
                !text.contains("gzip") && text.contains("Content-Length: 9\r\n"),
                "{text}"
            );
        }
    }

    #[test]
    fn ids_and_dates() {
        let a = record_id();
        let b = record_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), "<urn:uuid:>".len() + 36);
        assert_eq!(&a[24..25], "4");
        // The RFC 4122 variant.
        assert!(matches!(&a[29..30], "8" | "9" | "a" | "b"), "{a}");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(format_date(t), "1994-11-06T08:49:37Z");
        assert_eq!(format_date(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        // Sub-second parts are dropped, not rounded; out-of-range clocks do not panic.
        assert_eq!(
            format_date(t + Duration::from_millis(999)),
            "1994-11-06T08:49:37Z"
        );
        assert_eq!(
            format_date(SystemTime::UNIX_EPOCH - Duration::from_secs(1)),
            "1970-01-01T00:00:00Z"
        );
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(format_date(leap), "2000-02-29T00:00:00Z");
    }
}
