#!/usr/bin/env bash
# Runs the libFuzzer targets of a fuzz build (README "Fuzzing"):
#   scripts/fuzz.sh BUILD_DIR [SECONDS [TARGET...]]
# For each target (every fuzz/fuzz_<name> built in BUILD_DIR, or the names given) it
#   1. replays the seed corpus fuzz/corpus/<name>/, every input once: a regression check;
#   2. fuzzes for SECONDS (default 30) from a temporary copy of that corpus, so the repository is
#      never written; a crash, sanitizer report, leak or hang leaves its reproducer in
#      BUILD_DIR/artifacts/<name>/ and the command that replays it is printed.
# Each replay and each fuzz run is one line "passed|failed <what>: <detail>" in
# BUILD_DIR/fuzz-results.txt, which scripts/test-summary.py counts. Exit status 1 on any failure.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS [TARGET...]]}
seconds=${2:-30}
shift $(( $# < 2 ? $# : 2 ))
build=$(cd "$build" && pwd) || exit 2

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for exe in "$build"/fuzz/fuzz_*; do
    [ -f "$exe" ] && [ -x "$exe" ] && targets+=("${exe##*/fuzz_}")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets built in $build (configure it with CC=clang -Dfuzz=enabled)" >&2
  exit 1
fi

# Sanitizer reports are fatal (the build also has -fno-sanitize-recover); libFuzzer turns them
# into a reproducer. Leaks count as findings too.
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
results=$build/fuzz-results.txt
logs=$build/fuzz-logs
mkdir -p "$logs"
: >"$results"
status=0

# The report in a libFuzzer log: from the sanitizer's or libFuzzer's first line to its SUMMARY.
report() { # log
  awk '/ERROR:|runtime error:|deadly signal|ERROR: libFuzzer/ { on = 1 }
       on && n++ < 60 { print }
       on && /^SUMMARY:/ { exit }' "$1" >&2
}

record() { # passed|failed what detail
  echo "$1 $2: $3" >>"$results"
  [ "$1" = passed ] || status=1
}

for t in "${targets[@]}"; do
  exe=$build/fuzz/fuzz_$t
  corpus=$top/fuzz/corpus/$t
  if [ ! -x "$exe" ]; then
    record failed "fuzz $t" "$exe is not built"
    continue
  fi
  seeds=("$corpus"/*)
  if [ ! -f "${seeds[0]}" ]; then
    record failed "replay $t" "no seed corpus in fuzz/corpus/$t/"
    continue
  fi

  # 1. Replay: each seed once, as a plain run of the target on those files.
  if "$exe" "${seeds[@]}" >"$logs/$t-replay.log" 2>&1; then
    record passed "replay $t" "${#seeds[@]} inputs"
  else
    echo "fuzz: replaying fuzz/corpus/$t failed ($logs/$t-replay.log):" >&2
    report "$logs/$t-replay.log"
    record failed "replay $t" "see $logs/$t-replay.log"
  fi

  # 2. Fuzz from a scratch copy of the corpus.
  work=$(mktemp -d)
  cp "${seeds[@]}" "$work"/
  artifacts=$build/artifacts/$t
  mkdir -p "$artifacts"
  stamp=$(mktemp)
  echo "fuzz: $t for ${seconds} s" >&2
  if "$exe" -max_total_time="$seconds" -timeout=10 -close_fd_mask=3 -print_final_stats=1 \
       -artifact_prefix="$artifacts/" "$work" >"$logs/$t-fuzz.log" 2>&1; then
    record passed "fuzz $t" "$(grep -o 'stat::number_of_executed_units: [0-9]*' "$logs/$t-fuzz.log" |
                               sed 's/.*: //') runs in ${seconds} s"
  else
    found=$(find "$artifacts" -type f -newer "$stamp" | head -n 5)
    echo "fuzz: $t found a failure ($logs/$t-fuzz.log):" >&2
    report "$logs/$t-fuzz.log"
    for f in $found; do
      echo "fuzz: reproducer $f; replay it with: $exe $f" >&2
    done
    record failed "fuzz $t" "${found:-no reproducer written, see $logs/$t-fuzz.log}"
  fi
  rm -rf "$work" "$stamp"
done

cat "$results" >&2
exit $status
