//! Sitemaps (<https://www.sitemaps.org/protocol.html>): URL sets and sitemap index files, plain or
//! gzip-compressed.

use std::io::Read;

use quick_xml::Reader;
use quick_xml::events::Event;
use url::Url;

/// What a sitemap file lists.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sitemap {
    /// Page URLs (`<urlset><url><loc>`).
    pub pages: Vec<Url>,
    /// Further sitemaps (`<sitemapindex><sitemap><loc>`).
    pub sitemaps: Vec<Url>,
}

/// The most a decompressed sitemap may hold (the protocol caps files at 50 MB).
pub const MAX_SITEMAP_BYTES: u64 = 50 * 1024 * 1024;

/// Decompresses a gzip body (recognised by its magic bytes, whatever the server called it), capped
/// at [`MAX_SITEMAP_BYTES`].
pub fn gunzip_if_needed(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .take(MAX_SITEMAP_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot decompress the gzip sitemap: {e}"))?;
    if out.len() as u64 > MAX_SITEMAP_BYTES {
        return Err("the sitemap is larger than 50 MB once decompressed".into());
    }
    Ok(out)
}

/// Parses a sitemap or sitemap index. `<loc>` values are resolved against `base`; values that are
/// not URLs are skipped. A malformed document yields the URLs read before the error and the error.
pub fn parse(xml: &[u8], base: &Url) -> (Sitemap, Option<String>) {
    let mut reader = Reader::from_reader(xml);
    let mut out = Sitemap::default();
    let mut buf = Vec::new();
    // Which parent the current <loc> belongs to: `url` or `sitemap`.
    let mut parent: Option<bool> = None;
    let mut in_loc = false;
    let mut text = String::new();
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                return (
                    out,
                    Some(format!(
                        "malformed XML at byte {}: {e}",
                        reader.buffer_position()
                    )),
                );
            }
        };
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "url" => parent = Some(false),
                "sitemap" => parent = Some(true),
                "loc" => {
                    in_loc = true;
                    text.clear();
                }
                _ => {}
            },
            Event::Text(t) if in_loc => text.push_str(&t.xml10_content()),
            Event::CData(t) if in_loc => text.push_str(t.as_ref()),
            Event::GeneralRef(r) if in_loc => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                _ => text.push_str(match &*r {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                }),
            },
            Event::End(e) => match e.local_name().as_ref() {
                "loc" => {
                    in_loc = false;
                    if let Ok(url) = base.join(text.trim()) {
                        match parent {
                            Some(true) => out.sitemaps.push(url),
                            _ => out.pages.push(url),
                        }
                    }
                }
                "url" | "sitemap" => parent = None,
                _ => {}
            },
            Event::Eof => return (out, None),
            _ => {}
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://e.com/sitemap.xml").unwrap()
    }

    #[test]
    fn url_set_lists_pages_with_entities_decoded() {
        let xml =
            br#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc> https://e.com/a?x=1&amp;y=2 </loc><lastmod>2024-01-01</lastmod></url>
<url><loc><![CDATA[https://e.com/b]]></loc></url></urlset>"#;
        let (map, err) = parse(xml, &base());
        assert!(err.is_none());
        let pages: Vec<&str> = map.pages.iter().map(Url::as_str).collect();
        assert_eq!(pages, ["https://e.com/a?x=1&y=2", "https://e.com/b"]);
        assert!(map.sitemaps.is_empty());
    }

    #[test]
    fn index_lists_sitemaps() {
        let xml = br#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://e.com/posts.xml.gz</loc></sitemap></sitemapindex>"#;
        let (map, _) = parse(xml, &base());
        assert_eq!(map.sitemaps[0].as_str(), "https://e.com/posts.xml.gz");
        assert!(map.pages.is_empty());
    }

    #[test]
    fn gzip_bodies_are_recognised_by_magic_bytes() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"<urlset><url><loc>/c</loc></url></urlset>")
            .unwrap();
        let body = gunzip_if_needed(enc.finish().unwrap()).unwrap();
        let (map, _) = parse(&body, &base());
        assert_eq!(map.pages[0].as_str(), "https://e.com/c");
        assert_eq!(gunzip_if_needed(b"plain".to_vec()).unwrap(), b"plain");
    }

    #[test]
    fn broken_xml_keeps_what_was_read() {
        let (map, _) = parse(
            b"<urlset><url><loc>https://e.com/a</loc></url><url><loc>https://e.com/b</lo",
            &base(),
        );
        let pages: Vec<&str> = map.pages.iter().map(Url::as_str).collect();
        assert_eq!(pages, ["https://e.com/a"]);
    }
}
