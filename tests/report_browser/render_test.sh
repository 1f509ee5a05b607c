#!/usr/bin/env bash
# moetune report in a real browser: headless Chromium (Debian's `chromium`) loads a report of
# three files (tests/data/compare) and the test checks that it logged no console message, fetched
# nothing but the page itself, and that every chart of the page is in the DOM Chromium built from
# it; a screenshot is kept as the test's artifact. Exit 77 (ctest: skipped) with the reason when
# Chromium is missing or cannot start here.
#   render_test.sh MOETUNE_BINARY SOURCE_DIR ARTIFACT_DIR
set -uo pipefail
moetune=$1
src=$2
artifacts=$3
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }

browser=$(command -v chromium || command -v chromium-browser) ||
  skip "no chromium (Debian: apt-get install chromium; .ci/run installs it)"
tmp=$(mktemp -d /tmp/moetune_report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
data=$src/tests/data/compare
"$moetune" report "$data/base.json" "$data/slower.json" "$data/other_machine.json" \
  "$data/bench_a.json" -o "$tmp/report.html" >/dev/null || fail "moetune report"
page="file://$tmp/report.html"
# --no-sandbox: root in a container has no user namespace for Chromium's sandbox.
run() { timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --no-first-run --user-data-dir="$tmp/profile" "$@"; }
run --enable-logging=stderr --v=1 --dump-dom "$page" >"$tmp/dom.html" 2>"$tmp/log.txt"
rc=$?
[ $rc -eq 0 ] && [ -s "$tmp/dom.html" ] ||
  skip "chromium could not load a page here (exit $rc): $(grep -m1 -E 'FATAL|ERROR' "$tmp/log.txt")"

console=$(grep -E ':CONSOLE[:(]' "$tmp/log.txt")
[ -z "$console" ] || fail "console messages: $console"
fetched=$(grep -o 'FileURLLoader::Start: [^ ]*' "$tmp/log.txt" | grep -v "Start: $page\$" |
  grep -v '/profile/' || true)
[ -z "$fetched" ] || fail "the page fetched more than itself: $fetched"
net=$(grep -E 'URLLoader.*https?://' "$tmp/log.txt" | head -3)
[ -z "$net" ] || fail "the page went to the network: $net"

count() { grep -o "$1" "$2" | wc -l; }
want=$(count '<svg' "$tmp/report.html")
got=$(count '<svg' "$tmp/dom.html")
[ "$want" -gt 0 ] && [ "$got" -eq "$want" ] || fail "$got charts in the DOM, $want in the page"
for kind in 'chart ratio' 'chart roofline' 'chart time'; do
  [ "$(count "class=\"$kind\"" "$tmp/dom.html")" -gt 0 ] || fail "no $kind in the DOM"
done
[ "$(count '<section' "$tmp/dom.html")" -eq "$(count '<section' "$tmp/report.html")" ] ||
  fail "sections lost between the page and the DOM"

mkdir -p "$artifacts"
run --screenshot="$artifacts/report.png" --window-size=1400,5000 "$page" >/dev/null 2>&1 ||
  fail "chromium --screenshot"
[ -s "$artifacts/report.png" ] || fail "no screenshot written"
cp "$tmp/report.html" "$artifacts/report.html"
echo "ok: $got charts rendered, no console message, nothing fetched; screenshot $artifacts/report.png"
