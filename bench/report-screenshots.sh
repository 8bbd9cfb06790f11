#!/usr/bin/env bash
# Regenerates the report screenshots of the README's "Reports" section.
# Usage: bench/report-screenshots.sh [OUT_DIR]    (default: docs/screenshots)
#   Builds moai in release mode, writes the --report page of each kind below
#   into a temporary directory, and renders each to OUT_DIR/NAME.png with
#   bench/screenshots.sh (headless Chromium, no network), WIDTH CSS pixels wide
#   (default 800) and cut at the height given per page, so the files stay small.
#   GREY=1 also writes OUT_DIR/NAME-grey.png (the page in greyscale) to check
#   that the series stay apart without colour (git ignores them).
#   ONLY="gossip-trials sweep" renders only the pages named.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
cargo build --release --quiet
moai=$PWD/target/release/moai
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# wanted NAME: whether ONLY (when set) names the page.
wanted() {
  case " ${ONLY:-$1} " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}

# render NAME HEIGHT: renders $tmp/NAME.html to $out/NAME.png.
render() {
  if [ ! -s "$tmp/$1.html" ]; then
    echo "bench/report-screenshots.sh: $1: no report written" >&2
    exit 1
  fi
  WIDTH=${WIDTH:-800} HEIGHT=$2 bench/screenshots.sh "$out" "$tmp/$1.html"
}

# page NAME HEIGHT ARGS...: runs `moai ARGS --report NAME.html` (its stdout
# dropped) and renders the page.
page() {
  local name=$1 height=$2
  shift 2
  wanted "$name" || return 0
  "$moai" "$@" --report "$tmp/$name.html" >/dev/null
  render "$name" "$height"
}

page gossip-run 1100 gossip partitioned-swarm
page gossip-trials 1080 gossip stubborn-lossy --trials 2000
page sweep 1180 gossip stubborn-lossy --trials 2000 --sweep fanout=2..6
page byzantine-run 1700 byzantine infra
page resolve-compare 1320 resolve scenarios/hybrid.toml --compare
# check: the shipped scenarios and one whose expectation fails (listed
# first), run from the temporary directory so the paths stay short; moai
# exits 1 when a check fails.
if wanted check; then
  mkdir "$tmp/scenarios"
  cp scenarios/*.toml "$tmp/scenarios/"
  printf '%s\n' 'name = "expects-rejection"' 'algorithm = "byzantine"' '[[groups]]' \
    'count = 4' 'vote = "for"' '[expect]' 'decision = "rejected"' \
    >"$tmp/scenarios/expects-rejection.toml"
  (cd "$tmp" && "$moai" check scenarios --report check.html >/dev/null) || true
  render check 1000
fi
