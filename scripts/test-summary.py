#!/usr/bin/env python3
"""Totals the Check cases of one or more meson test logs (testlog.json) and prints, last,
   "N passed, N failed, N skipped". A case that printed "SKIP: ..." counts as skipped, not passed;
   a suite that died before Check could report counts as one failure.
   A path not ending in .json is a results file of scripts/fuzz.sh: one "passed|failed|skipped
   <what>: <detail>" a line, each counted as one; a missing one is a failure.

   Skips are policed: a case may skip only for a known host limit, tagged "[host limit: TAG]" by
   tests/tv_test.c, which is also where the list of tags is read from. A skip with no tag or an
   unknown one, and any skip of the emulator (which must run every mode), counts as a failure.
   The skips are printed grouped by reason, with counts."""
import collections
import json
import os
import re
import sys

passed = failed = skipped = 0
by_reason = collections.Counter()
refused = []  # (where, line, why) for skips that count as failures

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(top, "tests", "tv_test.c")) as f:
    KNOWN_TAGS = set(re.findall(r'\[TV_LIMIT_\w+\] = "([^"]+)"', f.read()))
TAG = re.compile(r"\[host limit: ([^\]]+)\]")
EMULATOR = re.compile(r"(^|[\s/:(])emu([/:\s)]|$)")


def skip(where, line):
    """Counts one skip line: skipped when a known host limit allows it, failed otherwise."""
    global skipped, failed
    text = line[len("SKIP: "):] if line.startswith("SKIP: ") else line
    m = TAG.search(text)
    if not m or m.group(1) not in KNOWN_TAGS:
        why = "no known host limit" if not m else f"unknown host limit '{m.group(1)}'"
    elif EMULATOR.search(text[:m.start()]):
        why = "the emulator skipped (it must run every mode)"
    else:
        skipped += 1
        by_reason[m.group(1) + ": " + re.sub(r"\(cr0 .*", "", text[m.end():]).strip()] += 1
        return
    refused.append((where, line, why))
    failed += 1


def results_file(path):
    global passed, failed
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        print(f"  {path}: {e.strerror}")
        failed += 1
        return
    for l in lines:
        verdict = l.split(" ", 1)[0]
        if verdict == "passed":
            passed += 1
        elif verdict == "skipped":
            skip(path, l)
        else:
            print(f"  {path}: {l}")
            failed += 1


for path in sys.argv[1:]:
    if not path.endswith(".json"):
        results_file(path)
        continue
    build = path.split("/meson-logs/")[0]
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            out = t.get("stdout", "") or ""
            name = build + "/" + t.get("name", "?")
            m = re.search(r"(\d+)%: Checks: (\d+), Failures: (\d+), Errors: (\d+)", out)
            skips = [l for l in out.splitlines() if l.startswith("SKIP: ")]
            if not m:
                print(f"  {name}: no Check summary ({t.get('result')})")
                failed += 1
                continue
            checks, fails, errors = int(m.group(2)), int(m.group(3)), int(m.group(4))
            for l in out.splitlines():
                if re.search(r":(F|E):", l):
                    print(f"  {name}: {l}")
            failed += fails + errors
            for l in skips:
                skip(name, l)
            passed += checks - fails - errors - len(skips)

if by_reason:
    print("skipped, by host limit:")
    for reason, n in sorted(by_reason.items(), key=lambda kv: -kv[1]):
        print(f"  {n:4d}  {reason}")
for where, line, why in refused:
    print(f"  {where}: FAILED, a skip not allowed ({why}): {line}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
