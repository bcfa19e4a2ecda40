#!/usr/bin/env bash
# Throughput of `affcheck check` on a generated 10,000-post site, next to a bare scraper parse of the
# same files, in the same run. Usage: scripts/bench-check.sh [PAGES] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-site.sh "$@"
mb=$(du -sb --apparent-size "$work/site" | cut -f1)
echo "site: $work/site, $(find "$work/site" -name '*.html' | wc -l) HTML files, $((mb / 1000000)) MB (all files)"
cat "$work/site"/posts/*.html > /dev/null  # warm the page cache for every contender
target/release/examples/bare_parse "$work/site" 1
target/release/examples/bare_parse "$work/site" 2
/usr/bin/time -v "$bin" check "$work/site" --base-url "$base" --output "$work/check.csv" 2> "$work/check-time.txt" || true
grep -E "affcheck:|Elapsed|Maximum resident|Percent of CPU" "$work/check-time.txt"
if command -v hyperfine > /dev/null; then
  hyperfine --warmup 1 --runs 3 -i \
    "target/release/examples/bare_parse $work/site 1" \
    "target/release/examples/bare_parse $work/site 2" \
    "$bin check $work/site --base-url $base --output /dev/null"
fi
if [ -f "$work/expected.csv" ]; then
  python3 "$shared/eval/score.py" "$work/expected.csv" "$work/check.csv" --quiet
fi
