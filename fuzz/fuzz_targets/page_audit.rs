//! Any bytes, under any of a few content types, as a page: decoding, parsing (the nesting cap
//! included) and the whole audit must return, never panic, in time linear in the input.
#![no_main]

use std::sync::OnceLock;

use affcheck::{AuditOptions, Auditor, Ruleset};
use libfuzzer_sys::fuzz_target;

mod page_input;

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
    if let Some(doc) = page_input::document(data) {
        let _ = auditor().audit(&doc);
    }
});
