//! Bad input never panics: mangled copies of the example pages (truncated, bytes flipped, random
//! garbage, invalid UTF-8) go through the whole audit, and mangled WARC archives through the WARC
//! reader. The generator is a fixed-seed xorshift, so a failure reproduces.

use std::path::Path;

use affcheck::Auditor;
use affcheck::document::Document;
use affcheck::findings::AuditOptions;
use affcheck::rules::Ruleset;
use affcheck::warc::{WarcReader, WarcWriter, http_response_block};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Truncates, flips, inserts or replaces bytes.
fn mangle(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match rng.below(4) {
        0 => out.truncate(rng.below(out.len() + 1)),
        1 => {
            for _ in 0..1 + rng.below(40) {
                let i = rng.below(out.len());
                if let Some(b) = out.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
        }
        2 => {
            let i = rng.below(out.len() + 1);
            let junk: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
            out.splice(i..i, junk);
        }
        _ => {
            let tokens: [&[u8]; 8] = [
                b"<a href=\"",
                b"</p>",
                b"<!--",
                b"<script>",
                b"&amp;",
                b"\xff\xfe",
                b"<details>",
                b"style=\"display:none\"",
            ];
            for _ in 0..1 + rng.below(20) {
                let i = rng.below(out.len() + 1);
                out.splice(i..i, tokens[rng.below(tokens.len())].iter().copied());
            }
        }
    }
    out
}

fn fixture_pages() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/site");
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "html") {
            pages.push(std::fs::read(p).unwrap());
        }
    }
    assert!(pages.len() > 20);
    pages
}

#[test]
fn mangled_pages_are_audited_or_skipped_without_panicking() {
    let auditor = Auditor::new(Ruleset::defaults().unwrap(), AuditOptions::default());
    let pages = fixture_pages();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let content_types = [
        None,
        Some("text/html; charset=iso-8859-1"),
        Some("text/html; charset=utf-16le"),
        Some("text/html; charset=bogus"),
    ];
    let mut audited = 0;
    for round in 0..1500 {
        let page = &pages[round % pages.len()];
        let bytes = mangle(&mut rng, page);
        let doc = Document {
            display: format!("https://site.example/p{round}.html"),
            base: Some(url::Url::parse("https://site.example/p.html").unwrap()),
            bytes,
            content_type: content_types[rng.below(content_types.len())].map(str::to_string),
        };
        if let Ok(report) = auditor.audit(&doc) {
            audited += 1;
            for f in &report.findings {
                assert!(f.disclosure_excerpt.chars().count() <= 120);
            }
        }
    }
    assert!(
        audited > 1100,
        "most mangled pages are still HTML: {audited}"
    );
}

#[test]
fn mangled_warc_archives_are_read_without_panicking() {
    let pages = fixture_pages();
    for gzip in [false, true] {
        let mut archive = Vec::new();
        {
            let mut w = WarcWriter::new(&mut archive, gzip);
            for (i, page) in pages.iter().take(8).enumerate() {
                let block =
                    http_response_block(200, &[("Content-Type".into(), "text/html".into())], page);
                let uri = format!("https://site.example/{i}.html");
                let (_, bytes) = affcheck::warc::encode_record(
                    "response",
                    &[
                        ("WARC-Target-URI", uri.as_str()),
                        ("Content-Type", "application/http; msgtype=response"),
                    ],
                    &block,
                    gzip,
                )
                .unwrap();
                w.write_encoded(&bytes).unwrap();
            }
        }
        let intact = WarcReader::new(&archive[..]).unwrap().count();
        assert!(intact >= 8, "the intact archive has its records: {intact}");
        let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ gzip as u64);
        for _ in 0..400 {
            let bytes = mangle(&mut rng, &archive);
            if let Ok(reader) = WarcReader::new(&bytes[..]) {
                // Every record, good or damaged, comes out in bounded steps.
                assert!(reader.take(10_000).count() < 10_000);
            }
        }
    }
}
