#!/bin/bash
# Runs a locally built kvm-unit-tests' x86 tests under twinvm, on each engine this host has, and
# prints one line per test and engine: PASS, FAIL and SKIP lines the test printed, how the run
# ended, and how long it took. Tests are taken from x86/unittests.cfg, each with its test_args as
# its command line; one that needs what twinvm does not give (more than one CPU, a shell to expand
# its arguments, KVM itself) is listed with what it needs. Each run has the test's own timeout from
# unittests.cfg, else 90 s as run_tests.sh has it, unless --timeout gives one for all.
#
#   scripts/kvm-unit-tests.sh [--engine kvm|emu|all] [--timeout S] [--twinvm PATH] DIR [TEST...]
#
# DIR is the kvm-unit-tests tree, built (./configure && make). TESTs are unittests.cfg names (the
# [sections]); all of them by default. Exit status: 0 when every test that ran ended with its own
# success (isa-debug-exit status 1), 1 when one did not, 2 for bad usage.
set -u

usage() {
	echo "usage: scripts/kvm-unit-tests.sh [--engine kvm|emu|all] [--timeout S] [--twinvm PATH] DIR [TEST...]" >&2
	exit 2
}

here=$(cd "$(dirname "$0")/.." && pwd)
twinvm="$here/build/twinvm"
engine=all
timeout=90 # run_tests.sh's own default (scripts/runtime.bash)
timeout_given=
while [ $# -gt 0 ]; do
	case "$1" in
	--engine) [ $# -ge 2 ] || usage; engine=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; timeout=$2; timeout_given=1; shift 2 ;;
	--twinvm) [ $# -ge 2 ] || usage; twinvm=$2; shift 2 ;;
	-h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "kvm-unit-tests.sh: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
dir=$1
shift
cfg="$dir/x86/unittests.cfg"
case "$engine" in kvm|emu|all) ;; *) echo "kvm-unit-tests.sh: --engine '$engine': give kvm, emu or all" >&2; exit 2 ;; esac
case "$timeout" in ''|*[!0-9]*) echo "kvm-unit-tests.sh: --timeout '$timeout': give whole seconds" >&2; exit 2 ;; esac
[ -r "$cfg" ] || { echo "kvm-unit-tests.sh: $cfg: not found (give the kvm-unit-tests tree)" >&2; exit 2; }
[ -x "$twinvm" ] || { echo "kvm-unit-tests.sh: $twinvm: not built (meson setup build && ninja -C build)" >&2; exit 2; }
arch=$(sed -n 's/^ARCH=//p' "$dir/config.mak" 2>/dev/null)
[ -n "$arch" ] || arch=x86_64

# The engines to run on: KVM only where a guest runs on it (a real probe, not just /dev/kvm).
engines=()
probe=$(mktemp)
trap 'rm -f "$probe" "$probe.out"' EXIT
printf '\xf4' > "$probe"
for e in kvm emu; do
	[ "$engine" = all ] || [ "$engine" = "$e" ] || continue
	if "$twinvm" run --backend "$e" --mode real --guest "$probe" > /dev/null 2>"$probe.out"; then
		engines+=("$e")
	else
		echo "# $e: not run here: $(head -1 "$probe.out")"
	fi
done
[ ${#engines[@]} -gt 0 ] || { echo "kvm-unit-tests.sh: no engine to run on" >&2; exit 1; }

# unittests.cfg, one line per test: name|file|smp|accel|arch|test_args|timeout
sections=$(awk '
	function flush() { if (name != "") print name "|" file "|" smp "|" accel "|" arch "|" args "|" tmo }
	/^\[/ { flush(); name = substr($0, 2, index($0, "]") - 2); file = ""; smp = 1; accel = ""; arch = ""; args = ""; tmo = ""; next }
	/^file *=/ { sub(/^file *= */, ""); file = $0 }
	/^smp *=/ { sub(/^smp *= */, ""); smp = $0 }
	/^timeout *=/ { sub(/^timeout *= */, ""); tmo = $0 }
	/^accel *=/ { sub(/^accel *= */, ""); accel = $0 }
	/^arch *=/ { sub(/^arch *= */, ""); arch = $0 }
	/^test_args *=/ { sub(/^[a-z_]+ *= */, ""); args = $0 }
	/^extra_params *=.*-append / { sub(/^.*-append +/, ""); args = $0 }
	END { flush() }' "$cfg")

wanted() {
	[ $# -eq 0 ] && return 0
	local t
	for t in "${@:2}"; do [ "$t" = "$1" ] && return 0; done
	return 1
}

printf '%-26s %-4s %5s %5s %5s  %-34s %7s\n' test engine PASS FAIL SKIP status time
failed=0
while IFS='|' read -r name file smp accel tarch args tmo; do
	[ -n "$name" ] || continue
	[ $# -eq 0 ] || wanted "$name" "$@" || continue
	[ -z "$tarch" ] || [ "$tarch" = "$arch" ] || continue
	flat="$dir/x86/$file"
	for e in "${engines[@]}"; do
		need=""
		if [ ! -f "$flat" ]; then need="not built: x86/$file"
		elif [ "$smp" != 1 ]; then need="needs $smp CPUs (twinvm has 1)"
		elif [[ $args == *'`'* || $args == *'$('* ]]; then need="needs a shell to expand: $args"
		elif [ "$accel" = kvm ] && [ "$e" != kvm ]; then need="needs KVM (accel = kvm)"
		fi
		if [ ${#need} -gt 34 ]; then need="${need:0:31}..."; fi
		if [ -n "$need" ]; then
			printf "%-26.26s %-4s %5s %5s %5s  %-34s %7s\n" "$name" "$e" - - - "$need" -
			continue
		fi
		t=$timeout
		case "$tmo" in ''|*[!0-9]*) ;; *) [ -n "$timeout_given" ] || t=$tmo ;; esac
		start=$(date +%s.%N)
		# test_args as run_tests.sh gives them to -append: the quotes around them dropped
		a=$args
		if [[ $a == \'*\' || $a == \"*\" ]]; then a=${a:1:${#a}-2}; fi
		"$twinvm" run --backend "$e" --guest "$flat" --platform pc --mode protected \
			--mem 128M --timeout "$t" ${a:+--multiboot-args "$a"} > "$probe.out" 2>&1
		rc=$?
		end=$(date +%s.%N)
		pass=$(grep -c '^PASS: ' "$probe.out")
		fail=$(grep -c '^FAIL: ' "$probe.out")
		skip=$(grep -c '^SKIP: ' "$probe.out")
		if grep -q 'twinvm: timeout:' "$probe.out"; then status="timeout after ${t} s"
		elif grep -q 'guest ended in SHUTDOWN' "$probe.out"; then status="shutdown (exit $rc)"
		elif grep -q 'exited through isa-debug-exit' "$probe.out"; then
			[ $rc -eq 1 ] && status="success (status 1)" || status="failure (status $rc)"
		elif grep -q 'guest ended in INTERNAL_ERROR' "$probe.out"; then status="engine error (cannot emulate)"
		elif grep -q 'guest halted' "$probe.out"; then status="halted (exit $rc)"
		else status="twinvm exit $rc"
		fi
		[ $rc -eq 1 ] && grep -q 'exited through isa-debug-exit' "$probe.out" || failed=1
		printf '%-26.26s %-4s %5d %5d %5d  %-34s %6.1fs\n' "$name" "$e" "$pass" "$fail" "$skip" \
			"$status" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
	done
done <<< "$sections"
exit $failed
