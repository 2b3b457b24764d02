#!/usr/bin/env python3
"""Checks that the reader's modules depend on each other one way: lists, for each top-level
module of `src/` (a file `src/x.rs` or a folder `src/x/`), the other top-level modules its code
names (`crate::x`, `super::x` from a file directly under `src/`), and fails when they form a
cycle. Tests (`#[cfg(test)] mod tests` to the end of a file) and doc comments are left out:
only what the library's own code needs counts.

Usage: scripts/module_deps.py [--graph]   (exit 1 on a cycle)
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
# The binary and the crate root are not modules of the reader.
SKIP = {"main", "lib"}


def modules():
    out = {}
    for name in sorted(os.listdir(ROOT)):
        path = os.path.join(ROOT, name)
        if name.endswith(".rs") and name[:-3] not in SKIP:
            out.setdefault(name[:-3], []).append(path)
        elif os.path.isdir(path):
            for d, _, files in os.walk(path):
                out.setdefault(name, []).extend(os.path.join(d, f) for f in files if f.endswith(".rs"))
    return out


def code(path):
    text = open(path, encoding="utf-8").read()
    cut = re.search(r"^#\[cfg\(test\)\]\s*\n\s*(pub(\(crate\))? )?mod tests", text, re.M)
    if cut:
        text = text[: cut.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def edges(mods):
    graph = {m: set() for m in mods}
    for m, files in mods.items():
        for f in files:
            for other in re.findall(r"\bcrate::([a-z_]+)", code(f)):
                if other in mods and other != m:
                    graph[m].add(other)
    return graph


def cycles(graph):
    found, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return found


def main():
    graph = edges(modules())
    if "--graph" in sys.argv:
        for m in sorted(graph):
            print(f"{m} -> {', '.join(sorted(graph[m])) or '(nothing)'}")
    found = cycles(graph)
    for c in found:
        print("cycle: " + " -> ".join(c))
    if found:
        sys.exit(1)
    print(f"module dependencies: {len(graph)} modules, one way (no cycles)")


if __name__ == "__main__":
    main()
