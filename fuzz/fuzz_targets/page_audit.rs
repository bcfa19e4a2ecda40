//! Any bytes, under any of a few content types, as a page: decoding, parsing (the nesting cap
//! included) and the whole audit must return, never panic, in time linear in the input.
#![no_main]

use std::sync::OnceLock;

use affcheck::{AuditOptions, Auditor, Document, Ruleset};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [Option<&str>; 5] = [
    None,
    Some("text/html"),
    Some("text/html; charset=windows-1252"),
    Some("text/html; charset=utf-16le"),
    Some("text/html; charset=shift_jis"),
];

fn auditor() -> &'static Auditor {
    static AUDITOR: OnceLock<Auditor> = OnceLock::new();
    AUDITOR.get_or_init(|| {
        Auditor::new(
            Ruleset::defaults().expect("default rules"),
            AuditOptions::default(),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let doc = Document {
        display: "https://site.example/post/".into(),
        base: url::Url::parse("https://site.example/post/").ok(),
        bytes: body.to_vec(),
        content_type: CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()].map(str::to_string),
    };
    let _ = auditor().audit(&doc);
});
