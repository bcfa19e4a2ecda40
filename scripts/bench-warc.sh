#!/usr/bin/env bash
# Throughput of `affcheck warc` on a wget WARC of the generated 10,000-post site, next to
# `affcheck check` on the same pages as files and a bare `zcat` of the WARC, in one run; then the
# WARC report scored against the site's labels and the peak memory of each.
# Usage: scripts/bench-warc.sh [PAGES] [WORKDIR]   (needs nginx, wget, hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-site.sh "$@"
serve_site
warc=$work/site-wget.warc.gz
if [ ! -s "$warc" ] || [ -n "${REMAKE_WARC:-}" ]; then
  rm -rf "$work/wgetwarc" && mkdir -p "$work/wgetwarc"
  (cd "$work/wgetwarc" && wget -r -l inf -q --delete-after -nd --warc-file="${warc%.warc.gz}" "$base" || true)
fi
echo "WARC: $warc, $(stat -c %s "$warc") bytes compressed, $(zcat "$warc" | wc -c) bytes plain"
cat "$work"/site/posts/*.html > /dev/null  # warm the page cache for every contender
cat "$warc" > /dev/null
for cmd in \
  "$bin warc $warc --output $work/warc.csv" \
  "$bin check $work/site --base-url $base --output /dev/null" \
  "zcat $warc"; do
  /usr/bin/time -v $cmd > /dev/null 2> "$work/time.txt" || true
  echo "== $cmd"
  grep -E "affcheck: [0-9]|Elapsed|Maximum resident|Percent of CPU" "$work/time.txt"
done
python3 "$shared/eval/score.py" "$work/expected.csv" "$work/warc.csv" --quiet
hyperfine --warmup 1 --runs "${RUNS:-5}" -i --export-json "$work/bench-warc.json" \
  "$bin warc $warc --output /dev/null" \
  "$bin check $work/site --base-url $base --output /dev/null" \
  "zcat $warc > /dev/null"
python3 - "$work/bench-warc.json" "$(grep -c . "$work/expected.csv" >/dev/null; find "$work/site" -name '*.html' | wc -l)" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["results"]
pages = int(sys.argv[2])
rate = {}
for r in runs:
    name = r["command"].split()[1] if "affcheck" in r["command"] else "zcat"
    rate[name] = pages / r["mean"]
    print(f"{name:6} mean {r['mean']:.3f} s ± {r['stddev']:.3f}  -> {pages / r['mean']:,.0f} pages/s")
print(f"warc/check throughput: {rate['warc'] / rate['check']:.0%}")
PY
