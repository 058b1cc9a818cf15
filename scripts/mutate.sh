#!/usr/bin/env bash
# Mutation testing (README "Mutation testing"): plants each bug of scripts/mutations/ in a scratch
# copy of the tree, builds it, runs the whole test suite on the emulator, and says whether the
# suite noticed:
#   scripts/mutate.sh [-k] [NAME...]
# NAME picks mutations by the start of their file name (01, 03-diff, ...); none: all of them.
# -k keeps the scratch directory (its logs/ has each mutation's test output).
#
# The scratch copy is the working tree as it is (tracked files with their uncommitted changes,
# plus untracked files that are not ignored), so a change can be checked before it is committed.
# It is configured and built once; then, per mutation: patch -p1, ninja, meson test with
# TWINVM_NO_KVM=1 (the emulator is what the mutations target, and KVM may be absent or slow),
# patch -R. The suite must pass on the unmutated copy first, or nothing it says means anything.
#
# One line per mutation:
#   killed   NN-name (suite S failed: the first failing test)
#   survived NN-name
#   error    NN-name (does not apply | does not build | ...)
# and last `mutations: K killed of N`. Exit status 0 only when every mutation was killed; 1
# otherwise; 2 when the set-up failed (bad arguments, the unmutated tree does not build or pass).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
keep=0
if [ "${1:-}" = "-k" ]; then
  keep=1
  shift
fi

mutations=()
for f in "$top"/scripts/mutations/*.patch; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .patch)
  if [ $# -eq 0 ]; then
    mutations+=("$f")
  else
    for want in "$@"; do
      case "$name" in "$want"*) mutations+=("$f"); break ;; esac
    done
  fi
done
if [ ${#mutations[@]} -eq 0 ]; then
  echo "mutate: no mutation in scripts/mutations/ matches ${*:-anything}" >&2
  exit 2
fi

# The Unicorn that setup.sh builds against (fetch-unicorn.sh prints where), unless the caller
# already says where it is.
if [ -z "${PKG_CONFIG_PATH:-}" ]; then
  ucpath=$("$top/scripts/fetch-unicorn.sh") || exit 2
  export PKG_CONFIG_PATH="$ucpath"
fi
export TWINVM_NO_KVM=1

scratch=$(mktemp -d "${TMPDIR:-/tmp}/twinvm-mutate.XXXXXX") || exit 2
cleanup() {
  if [ "$keep" = 1 ]; then
    echo "mutate: scratch copy kept in $scratch" >&2
  else
    rm -rf "$scratch"
  fi
}
trap cleanup EXIT
src=$scratch/src
logs=$scratch/logs
mkdir -p "$src" "$logs"

# The working tree, without what git ignores (build directories, .deps) and without files that
# are tracked but deleted.
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$src" || { echo "mutate: cannot copy the tree" >&2; exit 2; }

# The whole suite, on the emulator; 120 s a suite at most (the 1200 s timeout times 0.1), so a
# mutation that hangs a guest costs minutes, not hours. Appends meson's full test log (every
# suite's whole output) to log and prints the failing suites' names, once each.
run_suite() {
  local log=$1
  (cd "$src" && meson test -C build --no-rebuild -t 0.1) >>"$log" 2>&1
  # A timed-out suite's forked Check children outlive it (meson kills the runner only): a
  # mutation that hangs a guest would leave them spinning on the CPU for good.
  pkill -KILL -f "^$src/build/tests/" 2>/dev/null || true
  cat "$src/build/meson-logs/testlog.txt" >>"$log"
  sed -nE 's/^ *[0-9]+\/[0-9]+ +([A-Za-z0-9_]+) +(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS).*/\1/p' \
    "$src/build/meson-logs/testlog.txt" | awk '!seen[$0]++'
}

# The first failing Check case in a log: "test_x.c:LINE:F:tcase:test_name:iteration: why" (E
# for an error, a crash among them) gives "test_name:iteration".
first_case() {
  sed -nE 's/^[^ :]+\.c:[0-9]+:[FE]:[^:]*:([^:]+):([0-9]+):.*/\1:\2/p' "$1" | head -n1
}

echo "mutate: building the unmutated tree in $scratch" >&2
if ! (cd "$src" && meson setup build && ninja -C build) >"$logs/setup.txt" 2>&1; then
  echo "mutate: the unmutated tree does not build; see $logs/setup.txt" >&2
  keep=1
  exit 2
fi
failed=$(run_suite "$logs/unmutated.txt")
if [ -n "$failed" ] || ! grep -qE '^Ok: +[1-9]' "$logs/unmutated.txt"; then
  echo "mutate: the suite fails on the unmutated tree (${failed//$'\n'/, }); see $logs/unmutated.txt" >&2
  keep=1
  exit 2
fi

killed=0
total=0
for patchfile in "${mutations[@]}"; do
  name=$(basename "$patchfile" .patch)
  log=$logs/$name.txt
  total=$((total + 1))
  if ! (cd "$src" && patch -p1 --dry-run -f -s <"$patchfile") >"$log" 2>&1; then
    # Loud on purpose: a mutation that no longer applies must be rewritten, not counted.
    echo "error    $name (does not apply to this tree: rewrite it against the current code)"
    continue
  fi
  (cd "$src" && patch -p1 -f -s --no-backup-if-mismatch <"$patchfile") >>"$log" 2>&1
  if ! ninja -C "$src/build" >>"$log" 2>&1; then
    echo "error    $name (does not build; see the log with -k)"
  else
    failed=$(run_suite "$log")
    if [ -n "$failed" ]; then
      killed=$((killed + 1))
      case=$(first_case "$log")
      echo "killed   $name (suite ${failed//$'\n'/, } failed${case:+: $case})"
    else
      echo "survived $name"
    fi
  fi
  if ! (cd "$src" && patch -p1 -R -f -s --no-backup-if-mismatch <"$patchfile") >>"$log" 2>&1; then
    echo "mutate: $name could not be taken out again; stopping" >&2
    keep=1
    break
  fi
done

echo "mutations: $killed killed of $total"
[ "$killed" -eq "$total" ]
