//! The named fields of a WARC record header, and finding and parsing the header block.

use super::error::WarcError;

/// The named fields of a WARC record header, in order. Names compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The first value of the field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `WARC-Type`, lower-cased (`response`, `request`, `warcinfo` …), or `""` when missing.
    pub fn warc_type(&self) -> String {
        self.get("WARC-Type").unwrap_or("").to_ascii_lowercase()
    }

    /// `WARC-Target-URI` without the angle brackets some writers (wget) put around it.
    pub fn target_uri(&self) -> Option<&str> {
        self.get("WARC-Target-URI").map(|u| {
            let u = u.trim();
            u.strip_prefix('<')
                .and_then(|u| u.strip_suffix('>'))
                .unwrap_or(u)
        })
    }
}

/// Length of the header block (through the empty line), if it is complete in `buf`.
pub(super) fn header_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = buf[from..].iter().position(|&b| b == b'\n') {
        let nl = from + i;
        let next = &buf[nl + 1..];
        if next.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        if next.starts_with(b"\n") {
            return Some(nl + 2);
        }
        from = nl + 1;
    }
    None
}

/// The version (without `WARC/`) and the named fields of a header block ending in the empty
/// line; folded lines continue the field before them.
pub(super) fn parse_warc_header(block: &[u8]) -> Result<(String, Headers), WarcError> {
    let text = String::from_utf8_lossy(block);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or("").trim_end();
    let Some(version) = first.strip_prefix("WARC/") else {
        return Err(WarcError::NotWarc);
    };
    if !matches!(version, "1.0" | "1.1" | "0.17" | "0.18") {
        return Err(WarcError::Version(first.to_string()));
    }
    let mut headers: Vec<(String, String)> = Vec::with_capacity(16);
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A folded continuation of the previous field.
            match headers.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(WarcError::HeaderLine(line.to_string())),
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.is_empty() && !name.contains(' ') => {
                headers.push((name.to_string(), value.trim().to_string()));
            }
            _ => return Err(WarcError::HeaderLine(line.chars().take(200).collect())),
        }
    }
    Ok((version.to_string(), Headers(headers)))
}

/// Where `needle` first occurs in `haystack`.
pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use crate::warc::testutil::*;

    #[test]
    fn header_parsing_folds_and_ignores_case() {
        let text = "WARC/1.1\r\nwarc-type: Response\r\nWARC-Target-URI: <http://a/x?y=1>\r\nX-Long: a\r\n  b\r\ncontent-length: 0\r\n\r\n\r\n\r\n";
        let recs = read_all(text.as_bytes());
        let r = recs[0].as_ref().unwrap();
        assert_eq!(r.version, "1.1");
        assert_eq!(r.headers.warc_type(), "response");
        assert_eq!(r.headers.target_uri(), Some("http://a/x?y=1"));
        assert_eq!(r.headers.get("x-long"), Some("a b"));
        assert_eq!(r.content_length, 0);
    }
}
