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
    "$twinvm" run --backend kvm --mode "$mode" --guest "$g" --trace "$file" \
      ${limit[$g]:+--max-exits ${limit[$g]}} >/dev/null 2>&1
    rc=$?
    set -e
    if [ $rc -eq 2 ]; then
      echo "record-golden: $g/$mode: twinvm run failed (status 2)" >&2
      rm -f "$file"
      exit 1
    fi
    echo "record-golden: $g/$mode: $(wc -l <"$file") lines" >&2
  done
done
