//! Baseline for the performance figures: parse every `*.html` below a folder with
//! `scraper::Html::parse_document` and nothing else, on N threads (default 1).
//!
//! `cargo run --release --example bare_parse -- FOLDER [THREADS]`

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: bare_parse FOLDER [THREADS]");
        std::process::exit(2);
    };
    let threads: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(1);
    let files: Vec<PathBuf> = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| e.into_path())
        .collect();
    let queue = Mutex::new(files.iter());
    let started = Instant::now();
    let bytes: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut total = 0;
                    loop {
                        let Some(path) = queue.lock().unwrap().next() else {
                            break;
                        };
                        let raw = std::fs::read(path).expect("readable file");
                        let html = scraper::Html::parse_document(&String::from_utf8_lossy(&raw));
                        std::hint::black_box(&html);
                        total += raw.len();
                    }
                    total
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bare scraper parse, {threads} thread(s): {} files, {:.1} MB in {secs:.2} s = {:.1} MB/s",
        files.len(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs
    );
}
