#!/usr/bin/env bash
# Throughput of `affcheck check` on a generated 10,000-post site, next to a bare scraper parse of the
# same files, in the same run. Usage: scripts/bench-check.sh [PAGES] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${1:-10000}
work=${2:-/tmp/bench}
shared=${SHARED:-../shared}
if [ ! -d "$work/site/posts" ]; then
  python3 "$shared/bench/gensite.py" "$work/site" --pages "$pages" --base http://127.0.0.1:18080/
fi
cargo build --release --quiet --example bare_parse
bin=target/release
mb=$(du -sb --apparent-size "$work/site" | cut -f1)
echo "site: $work/site, $(find "$work/site" -name '*.html' | wc -l) HTML files, $((mb / 1000000)) MB (all files)"
cat "$work/site"/posts/*.html > /dev/null  # warm the page cache for every contender
"$bin/examples/bare_parse" "$work/site" 1
"$bin/examples/bare_parse" "$work/site" 2
/usr/bin/time -v "$bin/affcheck" check "$work/site" --base-url http://127.0.0.1:18080/ --output "$work/check.csv" 2> "$work/check-time.txt" || true
grep -E "affcheck:|Elapsed|Maximum resident|Percent of CPU" "$work/check-time.txt"
if command -v hyperfine > /dev/null; then
  hyperfine --warmup 1 --runs 3 -i \
    "$bin/examples/bare_parse $work/site 1" \
    "$bin/examples/bare_parse $work/site 2" \
    "$bin/affcheck check $work/site --base-url http://127.0.0.1:18080/ --output /dev/null"
fi
if [ -f "$work/expected.csv" ]; then
  python3 "$shared/eval/score.py" "$work/expected.csv" "$work/check.csv" --quiet
fi
