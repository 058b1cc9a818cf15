#!/usr/bin/env python3
"""The tree's structure measures (issue 12), checked rather than eyeballed.

  scripts/structure.py [BUILD_DIR]

Reports, and exits 1 when any is found:
  - a source file over 600 lines (backend/, core/, frontend/, guests/, tests/, fuzz/);
  - a function over 80 lines, from its signature's first line to its closing brace (the tree's
    style puts a function's braces alone in column 0, which is what is matched);
  - a call loop: object files of the engine and core libraries that use each other's symbols,
    directly or around a longer cycle (needs BUILD_DIR with the objects, `nm` from binutils);
  - an include loop: headers that include each other.
"""
import collections
import glob
import os
import re
import subprocess
import sys

FILE_MAX = 600
FUNC_MAX = 80
DIRS = ('x86', 'backend', 'core', 'frontend', 'guests', 'tests', 'fuzz')


def sources():
    return sorted(f for d in DIRS for f in glob.glob(d + '/**/*.[ch]', recursive=True))


def long_files(files):
    for f in files:
        with open(f, errors='replace') as fh:
            n = sum(1 for _ in fh)
        if n > FILE_MAX:
            yield f'file over {FILE_MAX} lines: {f} ({n})'


def long_functions(files):
    for f in files:
        with open(f, errors='replace') as fh:
            lines = fh.read().split('\n')
        i = 0
        while i < len(lines):
            if lines[i] == '{':
                start = i - 1  # back over the signature's continuation lines
                while start > 0 and (lines[start].startswith((' ', '\t')) or not lines[start]):
                    start -= 1
                end = i + 1
                while end < len(lines) and lines[end] != '}' and not lines[end].startswith('};'):
                    end += 1
                n = end - start + 1
                if n > FUNC_MAX and '(' in lines[start]:
                    yield f'function over {FUNC_MAX} lines: {f}:{start + 1} ({n}) {lines[start][:70]}'
                i = end
            i += 1


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan, iterative enough here)."""
    sys.setrecursionlimit(100000)
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def include_loops(files):
    by_name = collections.defaultdict(list)
    for f in files:
        if f.endswith('.h'):
            by_name[os.path.basename(f)].append(f)
    graph = collections.defaultdict(set)
    for f in files:
        if not f.endswith('.h'):
            continue
        with open(f, errors='replace') as fh:
            for line in fh:
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if m and len(by_name.get(os.path.basename(m.group(1)), [])) == 1:
                    graph[f].add(by_name[os.path.basename(m.group(1))][0])
    for comp in cycles(graph):
        yield 'include loop: ' + ' '.join(comp)


def call_loops(build):
    objs = [o for o in glob.glob(build + '/**/*.o', recursive=True)
            if re.search(r'twinvm_(x86|backend|core)', o)]
    if not objs:
        yield f'no engine or core objects under {build}: build first'
        return
    defined, used = {}, collections.defaultdict(set)
    for o in objs:
        out = subprocess.run(['nm', o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in 'TDBR':
                defined[p[2]] = o
            elif len(p) == 2 and p[0] == 'U':
                used[o].add(p[1])
    graph = collections.defaultdict(set)
    for o, syms in used.items():
        graph[o] |= {defined[s] for s in syms if s in defined and defined[s] != o}
    name = lambda o: re.sub(r'\.[cS]\.o$', '', os.path.basename(o))
    for comp in cycles(graph):
        yield 'call loop: ' + ' '.join(sorted(name(o) for o in comp))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else 'build'
    files = sources()
    problems = [*long_files(files), *long_functions(files), *include_loops(files),
                *call_loops(build)]
    for p in problems:
        print(p)
    print(f'structure: {len(files)} files, {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
