#!/usr/bin/env bash
# twinvm set-up for a fresh Debian 12 machine (root, apt-get available):
#   scripts/setup.sh demo   install what is missing, build, run the hello demo in every mode
#   scripts/setup.sh test   install what is missing, build, run the whole test suite, then replay
#                           the fuzz targets' corpora and fuzz each for 30 s (scripts/fuzz.sh)
# Nothing outside Debian's packages is installed, and the system's apt sources are not changed;
# where Debian 12's Unicorn (2.0.1) is too old, Debian trixie's 2.1.1 is unpacked into .deps/.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
what=${1:-}
case "$what" in
  demo|test|build) ;;
  *) echo "usage: scripts/setup.sh demo|test|build" >&2; exit 2 ;;
esac

packages=(gcc libc6-dev binutils meson ninja-build pkg-config python3 curl ca-certificates
          check libsubunit-dev libjansson-dev libunicorn-dev libcapstone-dev libzydis-dev
          clang libclang-rt-14-dev # clang and its libFuzzer runtime, for fuzz/
          gdb)                     # the real client of the gdb stub's tests
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

ucpath=$(scripts/fetch-unicorn.sh)
export PKG_CONFIG_PATH="${ucpath}${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

configure() { # builddir [meson options...]
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir" >/dev/null
}

configure build
echo "setup: built build/twinvm with $(pkg-config --modversion unicorn | sed 's/^/Unicorn /')" >&2

case "$what" in
  demo)
    status=0
    for mode in real protected paged32 long; do
      echo "== twinvm run --mode $mode"
      build/twinvm run --mode "$mode" || status=1
    done
    exit $status
    ;;
  test)
    # The suite runs twice: as built, and under AddressSanitizer and UndefinedBehaviorSanitizer,
    # which turn any host access outside guest RAM into a failure.
    status=0
    configure build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    for dir in build build-sanitize; do
      echo "setup: meson test -C $dir" >&2
      meson test -C "$dir" --print-errorlogs >/dev/null 2>&1 || status=1
    done
    # The fuzz targets need clang: a build of their own, instrumented and sanitized. Each corpus
    # is replayed, then each target fuzzed for 30 s; a finding's reproducer stays in
    # build-fuzz/artifacts/.
    CC=clang configure build-fuzz -Dfuzz=enabled -Dtests=disabled \
      -Db_sanitize=address,undefined -Db_lundef=false
    echo "setup: scripts/fuzz.sh build-fuzz 30" >&2
    scripts/fuzz.sh build-fuzz 30 || status=1
    python3 scripts/test-summary.py build/meson-logs/testlog.json \
      build-sanitize/meson-logs/testlog.json build-fuzz/fuzz-results.txt || status=1
    exit $status
    ;;
esac
