# Sourced by the scripts/bench-*.sh benchmarks (usage there: [PAGES] [WORKDIR]): settings, the
# generated 10,000-post site, a fresh release build, and serve_site to start nginx on loopback.
pages=${1:-10000}
work=${2:-/tmp/bench}
shared=${SHARED:-../shared}
port=${PORT:-18080}
base=http://127.0.0.1:$port/
if [ ! -d "$work/site/posts" ]; then
  python3 "$shared/bench/gensite.py" "$work/site" --pages "$pages" --base "$base"
fi
cargo build --release --quiet --bins --examples
bin=$PWD/target/release/affcheck

# Serves the site with nginx unless something already answers on the port; stops it on exit.
serve_site() {
  if ! curl -s -o /dev/null "$base"; then
    pid=$("$shared/bench/serve-site.sh" "$work/site" "$port" "$work/nginx")
    trap 'kill "$pid"' EXIT
  fi
}
