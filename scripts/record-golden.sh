#!/usr/bin/env bash
# Records tests/golden/: a KVM trace of every built-in guest in every mode this host's KVM runs.
# Run it on a KVM host after changing a guest or the trace format:  scripts/record-golden.sh [BUILD]
# Tests then compare the emulator against these files (`twinvm diff --against`), so a machine
# with no /dev/kvm still checks the emulator against real KVM behaviour.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
twinvm="$build/twinvm"
out="$top/tests/golden"
mkdir -p "$out"

# Guests that never halt are recorded for a bounded number of exits.
declare -A limit=([guest1]=50 [guest2]=50)
# interrupts is left out: it ends in KVM's emulation error on a KVM that emulates the guest
# (kvm-pvm), so a trace of it there is no golden one.
guests=(hello hypercalls cpuid exceptions guest1 guest2)
# What a golden is known to differ in from the emulator, with why: written into its header
# ("expect"), so `twinvm diff --against` leaves those fields out and fails on any other.
cpuid_why="CPUID answers for the CPU the engine offers: KVM the host's, the emulator its CPU model (--cpu)"
declare -A expect=(
  [cpuid]="rax rbx rcx rdx io.data hypercall.arg hypercall.text ram"
)

# Puts the guest's expected divergences into the header line of the trace file.
add_expectations() { # FILE FIELDS REASON
  python3 - "$@" <<'PY'
import json, sys
path, fields, reason = sys.argv[1], sys.argv[2].split(), sys.argv[3]
lines = open(path).read().splitlines()
head = json.loads(lines[0])
head["twinvm_trace"]["expect"] = [{"field": f, "reason": reason} for f in fields]
lines[0] = json.dumps(head, separators=(",", ":"))
open(path, "w").write("\n".join(lines) + "\n")
PY
}
real_only=" guest1 guest2 "

for g in "${guests[@]}"; do
  for mode in real protected paged32 long; do
    case "$real_only" in *" $g "*) [ "$mode" = real ] || continue ;; esac
    # Exit status 2: KVM cannot run this mode here (the probe says why) or the guest has no
    # build for it.
    set +e
    why=$("$twinvm" run --backend kvm --mode "$mode" --guest "$g" --max-exits 1 2>&1 >/dev/null)
    rc=$?
    set -e
    if [ $rc -eq 2 ]; then
      echo "record-golden: $g/$mode: not recorded: ${why##*$'\n'}" >&2
      continue
    fi
    file="$out/$g-$mode.jsonl"
    set +e
    said=$("$twinvm" run --backend kvm --mode "$mode" --guest "$g" --trace "$file" \
      ${limit[$g]:+--max-exits ${limit[$g]}} 2>&1 >/dev/null)
    rc=$?
    set -e
    # A golden is a run that ended as the guest means it to: halted with its checks passed
    # (status 0), or, for a guest that never halts, stopped at its exit limit. Anything else (a
    # SHUTDOWN, a failed check, an engine error) is no golden: the old file is left as it was.
    if [ $rc -ne 0 ] && ! { [ -n "${limit[$g]:-}" ] && [ $rc -eq 1 ] &&
                          [[ "$said" == *"stopped at the exit limit"* ]]; }; then
      echo "record-golden: $g/$mode: not recorded: the run did not halt (status $rc): ${said##*$'\n'}" >&2
      git -C "$top" checkout -q -- "tests/golden/$g-$mode.jsonl" 2>/dev/null || rm -f "$file"
      exit 1
    fi
    [ -z "${expect[$g]:-}" ] || add_expectations "$file" "${expect[$g]}" "$cpuid_why"
    echo "record-golden: $g/$mode: $(wc -l <"$file") lines" >&2
  done
done
