#!/usr/bin/env bash
# Peak memory (maximum resident set, KiB from time -f %M) of `affcheck check` on one large page of each markup shape, as a multiple of the page's
# size above the process's own start-up memory. Usage: scripts/bench-memory.sh [MB] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-5}
work=${2:-/tmp/bench-memory}
mkdir -p "$work"
cargo build --release --quiet --bin affcheck
bin=$PWD/target/release/affcheck
# Each shape repeats one unit to MB megabytes after a disclosure paragraph:
#   article: paragraphs of prose with a product link each (a long review or deals page)
#   links:   one line of nothing but affiliate links (a link directory)
#   undisclosed: the same links without the disclosure, so every link is a report row
#   inline:  text in tiny inline elements; lines: text broken by <br>
#   tables:  one-character table cells, the most nodes a byte of markup can build
python3 - "$work" "$mb" <<'PY'
import sys
work, mb = sys.argv[1], int(sys.argv[2])
units = {
    "article": lambda i: f'<p>Paragraph {i} compares the kettles we tested this spring, with notes on '
                         f'how each one heats, pours and cleans. <a href="https://www.amazon.com/dp/B0{i:08d}'
                         f'?tag=site-20">Kettle {i}</a> is the one we keep.</p>\n',
    "links": lambda i: f'<a href="https://www.amazon.com/dp/B0{i:08d}?tag=site-20">W{i}</a> ',
    "undisclosed": lambda i: f'<a href="https://www.amazon.com/dp/B0{i:08d}?tag=site-20">W{i}</a> ',
    "inline": lambda i: '<b>x</b>',
    "lines": lambda i: 'x<br>',
    "tables": lambda i: '<table><td>x',
}
head = ('<!doctype html><html><head><title>Big page</title></head><body>\n'
        '<p>We earn a commission when you buy through links on this page.</p>\n')
bare = head[:head.index("<p>")]
for name, unit in units.items():
    start = bare if name == "undisclosed" else head
    parts, size, i = [start], len(start), 0
    while size < mb * 1_000_000:
        u = unit(i)
        parts.append(u)
        size += len(u)
        i += 1
    with open(f"{work}/{name}.html", "w") as f:
        f.write("".join(parts))
with open(f"{work}/tiny.html", "w") as f:
    f.write(head + "</body></html>\n")
PY
# `check` exits 1 when it finds violations (the undisclosed shape); only the figure matters here.
peak() { { /usr/bin/time -f %M "$bin" check "$1" --output /dev/null --max-page-bytes 1000000000 2>&1 > /dev/null || true; } | tail -1; }
base=$(peak "$work/tiny.html")
printf "%-11s %9s %9s %7s\n" shape "page MB" "peak MB" "x page"
printf "%-11s %9s %9.1f %7s\n" start 0 "$(echo "$base * 1024 / 1000000" | bc -l)" -
for shape in article links undisclosed inline lines tables; do
  f=$work/$shape.html
  bytes=$(stat -c %s "$f")
  kb=$(peak "$f")
  printf "%-11s %9.1f %9.1f %7.1f\n" "$shape" "$(echo "$bytes / 1000000" | bc -l)" \
    "$(echo "$kb * 1024 / 1000000" | bc -l)" "$(echo "($kb - $base) * 1024 / $bytes" | bc -l)"
done
