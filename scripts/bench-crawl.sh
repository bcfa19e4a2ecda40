#!/usr/bin/env bash
# The crawl benchmark of issue 3: `wget -r` and `affcheck crawl` over the same generated 10,000-post
# site served by nginx on loopback, in one run, then the report scored against the site's labels.
# Usage: scripts/bench-crawl.sh [PAGES] [WORKDIR]   (needs nginx: apt-get install -y nginx)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-site.sh "$@"
serve_site
echo "site: $(find "$work/site" -name '*.html' | wc -l) HTML files"
rm -rf "$work/wget" && mkdir -p "$work/wget"
(cd "$work/wget" && /usr/bin/time -v wget -r -l inf -q --delete-after -nd "$base" 2> "$work/wget-time.txt" || true)
echo "wget -r:"; grep -E "Elapsed|Maximum resident" "$work/wget-time.txt"
/usr/bin/time -v "$bin" crawl "$base" --concurrency 32 --output "$work/r.csv" --errors "$work/crawl-errors.csv" 2> "$work/crawl-time.txt" || true
echo "affcheck crawl (issue's command, default --max-pages 10000):"
grep -E "affcheck: [0-9]|Elapsed|Maximum resident|Percent of CPU" "$work/crawl-time.txt"
python3 "$shared/eval/score.py" "$work/expected.csv" "$work/r.csv" --quiet || true
/usr/bin/time -v "$bin" crawl "$base" --concurrency 32 --max-pages 0 --output "$work/r-all.csv" --errors "$work/crawl-errors.csv" 2> "$work/crawl-all-time.txt" || true
echo "affcheck crawl --max-pages 0 (every page of the site):"
grep -E "affcheck: [0-9]|Elapsed|Maximum resident|Percent of CPU" "$work/crawl-all-time.txt"
python3 "$shared/eval/score.py" "$work/expected.csv" "$work/r-all.csv" --quiet || true
