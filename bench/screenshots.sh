#!/usr/bin/env bash
# Renders HTML files to PNG in headless Chromium, with the browser and flags of
# the browser tests (tests/support/browser.rs), for the README's "Reports".
# Usage: bench/screenshots.sh OUT_DIR FILE.html...
#   writes OUT_DIR/NAME.png for each FILE (NAME: the file's name without .html),
#   in a window of WIDTH x HEIGHT CSS pixels (default 1280 x 1024; the page is
#   cut at the bottom, so set HEIGHT to fit it). With GREY=1 it also writes
#   OUT_DIR/NAME-grey.png, the page in greyscale, to check that the series stay
#   apart without colour.
# The browser: $MOAI_CHROMIUM, else chromium, else chromium-headless-shell
# (Debian: apt-get install -y chromium). No network: every host lookup fails.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bench/screenshots.sh OUT_DIR FILE.html..." >&2
  exit 2
fi
out=$1
shift
browser=${MOAI_CHROMIUM:-$(command -v chromium || command -v chromium-headless-shell || true)}
if [ -z "$browser" ]; then
  echo "bench/screenshots.sh: no Chromium found (apt-get install -y chromium, or set MOAI_CHROMIUM)" >&2
  exit 2
fi
width=${WIDTH:-1280}
height=${HEIGHT:-1024}
mkdir -p "$out"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# shoot PAGE PNG: renders PAGE (a file) to PNG.
shoot() {
  local page=$1 png=$2
  rm -f "$png"
  # timeout: a hung browser is killed (with its helpers, its process group)
  # after 60 s.
  timeout --kill-after=5 60 "$browser" \
    --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --disable-sync \
    --no-first-run --disable-quic --no-default-browser-check --disable-extensions \
    '--host-resolver-rules=MAP * ~NOTFOUND' \
    --force-device-scale-factor=1 --hide-scrollbars --virtual-time-budget=5000 \
    "--window-size=$width,$height" "--user-data-dir=$profile/profile" \
    "--screenshot=$(realpath -m "$png")" "file://$(realpath "$page")" 2>"$profile/stderr" || true
  if [ ! -s "$png" ]; then
    echo "bench/screenshots.sh: $page: no screenshot written; the browser said:" >&2
    tail -n 5 "$profile/stderr" >&2
    exit 1
  fi
  echo "$png"
}
for page in "$@"; do
  if [ ! -f "$page" ]; then
    echo "bench/screenshots.sh: $page: no such file" >&2
    exit 2
  fi
  name=$(basename "$page" .html)
  shoot "$page" "$out/$name.png"
  if [ "${GREY:-}" = 1 ]; then
    # The same page with a greyscale filter put first in its <head>.
    sed '0,/<head[^>]*>/s//&<style>html { filter: grayscale(1) }<\/style>/' "$page" \
      >"$profile/$name.html"
    shoot "$profile/$name.html" "$out/$name-grey.png"
  fi
done
