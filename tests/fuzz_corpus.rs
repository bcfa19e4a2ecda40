//! Replays the fuzzers' corpora (`fuzz/corpus/`) through the code the fuzz targets drive, so every
//! input that once found new behaviour stays a regression test on the stable toolchain.

use std::path::Path;

use affcheck::warc::{WarcReader, response_document};
use affcheck::{AuditOptions, Auditor, Ruleset};

#[path = "../fuzz/fuzz_targets/page_input.rs"]
mod page_input;

fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

#[test]
fn page_corpus_audits_without_panicking() {
    let auditor = Auditor::new(Ruleset::defaults().unwrap(), AuditOptions::default());
    let inputs = corpus("page_audit");
    assert!(inputs.len() >= 30, "the corpus is there: {}", inputs.len());
    let mut audited = 0;
    for data in &inputs {
        let Some(doc) = page_input::document(data) else {
            continue;
        };
        if auditor.audit(&doc).is_ok() {
            audited += 1;
        }
    }
    assert!(audited > 0, "some corpus pages are HTML");
}

#[test]
fn warc_corpus_reads_without_panicking() {
    let inputs = corpus("warc_reader");
    assert!(!inputs.is_empty());
    let mut documents = 0;
    for data in &inputs {
        let Ok(reader) = WarcReader::new(&data[..]) else {
            continue;
        };
        // As in the fuzz target: gzip expands input by about 1,032:1 at most.
        let bound = data.len() * 1_100 + 2;
        let records: Vec<_> = reader.max_block(1 << 20).take(bound + 1).collect();
        assert!(records.len() <= bound, "records come out in bounded steps");
        for record in records.into_iter().flatten() {
            if response_document(record, 1 << 20).is_ok() {
                documents += 1;
            }
        }
    }
    assert!(documents > 0, "the seed archives hold pages");
}
