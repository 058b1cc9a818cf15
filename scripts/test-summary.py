#!/usr/bin/env python3
"""Totals the Check cases of one or more meson test logs (testlog.json) and prints, last,
   "N passed, N failed, N skipped". A case that printed "SKIP: ..." counts as skipped, not passed;
   a suite that died before Check could report counts as one failure.
   A path not ending in .json is a results file of scripts/fuzz.sh: one "passed|failed|skipped
   <what>: <detail>" a line, each counted as one; a missing one is a failure."""
import json
import re
import sys

passed = failed = skipped = 0
def results_file(path):
    global passed, failed, skipped
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
            continue
        print(f"  {path}: {l}")
        if verdict == "skipped":
            skipped += 1
        else:
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
            for l in skips:
                print(f"  {name}: {l}")
            if not m:
                print(f"  {name}: no Check summary ({t.get('result')})")
                failed += 1
                continue
            checks, fails, errors = int(m.group(2)), int(m.group(3)), int(m.group(4))
            for l in out.splitlines():
                if re.search(r":(F|E):", l):
                    print(f"  {name}: {l}")
            failed += fails + errors
            skipped += len(skips)
            passed += checks - fails - errors - len(skips)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
