#!/usr/bin/env python3
"""Cycles between the library's modules. Reads the dependency graph that `cargo modules
dependencies --lib --no-externs --no-sysroot` prints (DOT, on stdin) and lifts every "uses"
edge between items to an edge between the modules holding them; adds the `crate::…` and
`super::…` paths written in the code of `src/` outside tests (cargo-modules 0.27 records `use`
declarations and signatures, not paths inside function bodies). Prints each cycle (a strongly
connected set of modules) with one reason per edge; exits 1 when there is one.

Why not `cargo modules dependencies --acyclic`: it checks items, not modules, and a type whose
methods call each other (an `impl` whose constructor another method uses) counts there as a
cycle already.
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
PATH = re.compile(r"\b(crate|(?:super::)+)(?:::)?([A-Za-z_][\w:]*)(?:::\{([^}]*)\})?")

NODE = re.compile(r'^\s*"([^"]+)" \[label="[^"]*".*// "([^"]+)" node')
EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)" \[label="([a-z]+)"')


def main():
    kinds, uses = {}, []
    for line in sys.stdin:
        m = NODE.match(line)
        if m:
            kinds[m.group(1)] = m.group(2)
            continue
        m = EDGE.match(line)
        if m and m.group(3) == "uses":
            uses.append((m.group(1), m.group(2)))
    modules = {n for n, k in kinds.items() if k in ("mod", "crate")}

    def module_of(path):
        parts = path.split("::")
        for k in range(len(parts), 0, -1):
            candidate = "::".join(parts[:k])
            if candidate in modules:
                return candidate
        return None

    edges = {m: set() for m in modules}
    why = {}
    for a, b in uses:
        ma, mb = module_of(a), module_of(b)
        if ma and mb and ma != mb:
            edges[ma].add(mb)
            why.setdefault((ma, mb), (a, b))

    for m, target, where in source_paths(modules):
        tm = module_of(target)
        if tm and tm != m and not m.startswith(tm + "::"):
            edges[m].add(tm)
            why.setdefault((m, tm), (where, target))

    cycles = strongly_connected(edges)
    for comp in cycles:
        members = set(comp)
        print("cycle: " + ", ".join(sorted(comp)))
        for m in sorted(comp):
            for n in sorted(edges[m] & members):
                a, b = why[(m, n)]
                print(f"  {m} -> {n}   ({a} uses {b})")
    if cycles:
        sys.exit(1)
    print(f"no cycles among {len(modules)} modules")


def source_paths(modules):
    """(module, path it names, file:line) for each crate:: or super:: path in src/, tests
    left out. A path into an ancestor module is left out too: a module's own children are
    its parts."""
    for dirpath, _, files in os.walk(SRC):
        for name in files:
            if not name.endswith(".rs") or name == "main.rs":
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, SRC)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib"):
                rel = rel[:-1]
            module = "::".join(["ccx"] + rel)
            if module not in modules:
                continue
            with open(path, encoding="utf-8") as f:
                text = f.read()
            cut = text.find("#[cfg(test)]\nmod tests")
            if cut >= 0:
                text = text[:cut]
            for lineno, line in enumerate(text.split("\n"), 1):
                code = line.split("//")[0]
                for m in PATH.finditer(code):
                    if m.group(1) == "crate":
                        base = ["ccx"]
                    else:
                        up = m.group(1).count("super::")
                        parts = module.split("::")
                        base = parts[: max(1, len(parts) - up)]
                    head = base + [p for p in m.group(2).split("::") if p]
                    targets = ["::".join(head)]
                    for item in (m.group(3) or "").split(","):
                        item = item.strip().split(" as ")[0].strip()
                        if item and item != "self":
                            targets.append("::".join(head + item.split("::")))
                    for target in targets:
                        yield module, target, f"{os.path.relpath(path, os.path.join(SRC, '..'))}:{lineno}"


def strongly_connected(edges):
    """Tarjan's algorithm, iterative; the components with more than one module."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


if __name__ == "__main__":
    main()
