"""The source layout is the picture of the architecture: three tiers, each
in its own folder, and includes that only point down.

  shim/        the interposition core: exported hooks, real functions,
               registry, transfer life cycle, client writer, services the
               core owns (settings, configuration sources, log, safe file
               opening)
  hooks/       the stages: de-stream, fallback, ... (they plug into the
               core's stage API), and auto mode's learned-refusal cache
  hooks/pure/  the pure parts: bytes in, bytes out (JSON reader, body
               surgery, encoders, header and URL helpers, refusal rules,
               config grammar, buffers, globs); no libcurl, no core

Rules checked here: a pure file includes neither libcurl nor a header of
the core or the stages; the core does not include a stage's header (it
knows the stages only through the stage table); no modules form a circle
of includes (a .c and its .h are one module); every C file of the tiers is
built (the Makefile's lists come from the folders)."""

import re
import subprocess
from pathlib import Path

from conftest import ROOT

CORE, STAGES, PURE = ROOT / "shim", ROOT / "hooks", ROOT / "hooks" / "pure"
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
# The opt-in PHP companion is a separate library with no core inside.
SEPARATE = {CORE / "deepbind.c"}


def sources(folder):
    return sorted(p for p in folder.glob("*.[ch]") if p not in SEPARATE)


def includes(path):
    """(system, resolved path or name) for each #include of a file."""
    out = []
    for kind, name in INCLUDE.findall(path.read_text()):
        if kind == "<":
            out.append((True, name))
        else:
            out.append((False, (path.parent / name).resolve()))
    return out


def tier(path):
    path = Path(path).resolve()
    if path.parent == PURE:
        return "pure"
    if path.parent == STAGES:
        return "stages"
    if path.parent == CORE:
        return "core"
    return None


def module(path):
    """A .c, its .h and its internal X_int.h are one module."""
    p = Path(path).with_suffix("")
    return p.with_name(p.name[:-4]) if p.name.endswith("_int") else p


def test_pure_parts_include_no_libcurl_and_nothing_above():
    bad = []
    for f in sources(PURE):
        for system, inc in includes(f):
            if system and inc.startswith("curl/"):
                bad.append(f"{f.name}: <{inc}>")
            elif not system and tier(inc) != "pure":
                bad.append(f"{f.name}: {inc}")
    assert not bad, "pure files reaching up: " + ", ".join(bad)


def test_the_core_knows_no_stage():
    bad = [f"{f.name}: {inc.name}" for f in sources(CORE)
           for system, inc in includes(f) if not system and tier(inc) == "stages"]
    assert not bad, "core files including a stage: " + ", ".join(bad)


def test_no_circle_of_includes():
    graph = {}
    for folder in (CORE, STAGES, PURE):
        for f in sources(folder):
            deps = graph.setdefault(module(f), set())
            deps.update(module(inc) for system, inc in includes(f)
                        if not system and module(inc) != module(f) and tier(inc))
    seen, stack, circles = set(), [], []

    def visit(m):
        if m in stack:
            circles.append(stack[stack.index(m):] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            visit(d)
        stack.pop()

    for m in sorted(graph):
        visit(m)
    assert not circles, "include circles: " + "; ".join(
        " -> ".join(str(p.relative_to(ROOT)) for p in c) for c in circles)


def test_every_tier_file_is_built():
    """The Makefile's source lists come from the folders."""
    r = subprocess.run(["make", "-s", "-C", str(ROOT), "print-sources"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    assert r.returncode == 0, r.stderr.decode()
    built = {(ROOT / s).resolve() for s in r.stdout.decode().split()}
    want = {f.resolve() for folder in (CORE, STAGES, PURE)
            for f in folder.glob("*.c") if f not in SEPARATE}
    assert want - built == set(), sorted(str(p) for p in want - built)
