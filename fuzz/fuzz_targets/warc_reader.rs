//! Any bytes as a WARC file, plain or gzip-framed: every record, good or damaged, comes out in
//! bounded steps, and response records turn into documents or a reason they cannot.
#![no_main]

use affcheck::warc::{WarcReader, response_document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = WarcReader::new(data) else {
        return;
    };
    // Every record, even a damaged one, consumes input; gzip can expand input by about 1,032:1
    // at most, so more records than that means the reader stopped advancing.
    let bound = data.len() * 1_100 + 2;
    let mut n = 0;
    for record in reader.max_block(1 << 20) {
        n += 1;
        assert!(n <= bound, "more records than the input could hold");
        if let Ok(record) = record {
            let _ = response_document(record, 1 << 20);
        }
    }
});
