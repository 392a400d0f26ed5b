"""Benchmark mfkit-lint against the cost of parsing, and against flake8, on Metaflow's own source.

What is measured
----------------
The corpus is every ``.py`` file of the ``metaflow/`` package of one pinned Metaflow release
(the wheel from PyPI, cached in ``bench/.corpus/``). Metaflow's orchestrators (Argo, Step
Functions, Airflow, Kubernetes, Batch) are the code that extensions imitate, so it is both a
realistic input and a false-positive check. Each tool below runs as a fresh process on the same
explicit list of files; every row is the best of ``--repeat`` wall-clock runs, with the rows
interleaved round by round so that a noisy machine affects them alike.

* ``ast.parse floor``: read the bytes of every file and ``ast.parse`` them, in a fresh
  ``python -c`` process, so that it pays the interpreter start-up every linter pays. mfkit-lint
  is an AST linter: it cannot read and parse the corpus faster than this, so the ratio to the
  floor is the cost of everything else (discovery, rules, libcst, reporting). The same parse
  timed inside this process is reported as well, without start-up. A tool that uses less CPU
  than the in-process parse cannot have parsed every file, and is flagged with (!).
* ``mfkit-lint``: ``mfkit-lint --exit-zero --format concise FILES`` (no cache exists yet, so
  every run is cold). Its findings are the lines of that output.
* ``mfkit-lint DIR``: the same on the corpus directory rather than the file list, which adds
  discovery. (``bench/.corpus/`` is gitignored; a directory named on the command line is
  linted all the same.)
* ``flake8 --select F`` and ``flake8 --select MFK``: flake8 with its default ``--jobs``. flake8
  runs every installed plugin whatever ``--select`` says (pycodestyle and mccabe as well as
  pyflakes and the mfkit-lint plugin) and filters the reports afterwards, so these two rows do
  nearly the same work. ``flake8 (no MFK plugin)`` is flake8 ``--select F`` with the mfkit-lint
  entry point dropped before flake8 loads its plugins: the flake8 cost a project pays before it
  adopts the plugin.

``--scale K`` also lints K copies of the corpus (``bench/.corpus/scaled-K``) with the floor and
mfkit-lint and prints seconds per 100k lines at 1x and Kx: equal figures mean linear scaling.

Besides wall time, the table shows the CPU seconds (user + system, flake8's worker processes
included) of the best run: on a busy machine they vary far less than wall time, and they show
what flake8's parallel jobs cost in total.

The script exits non-zero only when a tool fails to run (a crash, an error exit); slowness is
reported, never failed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

METAFLOW_VERSION = "2.19.39"
BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".corpus"
COMPLETE_MARKER = ".complete"

FLOOR_CODE = """\
import ast, sys, warnings
warnings.simplefilter("ignore")
for name in sys.argv[1:]:
    with open(name, "rb") as fh:
        ast.parse(fh.read(), name)
"""

# flake8 with the mfkit-lint entry point removed from plugin discovery. Workers are forked on
# Linux, so they inherit the patch; `--version` is used to check that it took effect.
FLAKE8_WITHOUT_MFK_CODE = """\
import sys
from flake8.plugins import finder
_find = finder.find_plugins
finder.find_plugins = lambda cfg, opts: [p for p in _find(cfg, opts) if p.package != "mfkit-lint"]
from flake8.main.cli import main
sys.exit(main())
"""


@dataclass
class Corpus:
    root: Path  # the directory that holds metaflow/; tools run with this as cwd
    files: list[str]  # relative to root, sorted
    lines: int

    @property
    def package_dir(self) -> str:
        return "metaflow" if (self.root / "metaflow").is_dir() else "."


@dataclass
class Tool:
    name: str
    argv: list[str]  # the corpus paths are appended
    counts_findings: bool = False
    pass_files: bool = True  # False: pass the corpus directory instead of the file list
    note: str = ""


@dataclass
class Result:
    name: str
    seconds: Optional[float] = None  # best of the runs; None if the tool failed
    runs: list[float] = field(default_factory=list)
    cpu_seconds: Optional[float] = None  # user + system time of the process tree, best run
    cpu_runs: list[float] = field(default_factory=list)
    findings: Optional[int] = None
    returncode: Optional[int] = None
    stderr: list[str] = field(default_factory=list)  # distinct stderr lines over all runs
    failure: Optional[str] = None
    note: str = ""
    flags: list[str] = field(default_factory=list)


class BenchError(Exception):
    """The corpus cannot be obtained or a tool cannot be found."""


# --------------------------------------------------------------------------- corpus


def fetch_corpus(version: str) -> Corpus:
    """The metaflow/ package of ``metaflow==version``, downloaded and unpacked once, then reused."""
    root = CACHE_DIR / f"metaflow-{version}"
    if not (root / COMPLETE_MARKER).is_file():
        wheel = _download_wheel(version)
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        with zipfile.ZipFile(wheel) as zf:
            members = [
                m
                for m in zf.namelist()
                if m.startswith("metaflow/") and ".." not in Path(m).parts and not m.endswith("/")
            ]
            zf.extractall(root, members)
        (root / COMPLETE_MARKER).write_text(f"{wheel.name}\n", encoding="utf-8")
    return load_corpus(root)


def _download_wheel(version: str) -> Path:
    download_dir = CACHE_DIR / "download"
    pattern = f"metaflow-{version}-*.whl"
    found = sorted(download_dir.glob(pattern))
    if not found:
        download_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            *("-m", "pip", "download", f"metaflow=={version}", "--no-deps"),
            *("--only-binary", ":all:", "--dest", str(download_dir), "--quiet"),
        ]
        print(f"downloading metaflow=={version} ...", flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BenchError(f"pip download failed ({proc.returncode}):\n{proc.stderr.strip()}")
        found = sorted(download_dir.glob(pattern))
        if not found:
            raise BenchError(f"pip download left no {pattern} in {download_dir}")
    return found[-1]


def load_corpus(root: Path) -> Corpus:
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py") if p.is_file())
    if not files:
        raise BenchError(f"no .py files under {root}")
    lines = 0
    for name in files:
        # Reading every file also warms the page cache before the first timed run.
        lines += len((root / name).read_bytes().splitlines())
    return Corpus(root, files, lines)


def scaled_corpus(corpus: Corpus, copies: int) -> Corpus:
    """``copies`` copies of the corpus side by side in bench/.corpus/scaled-K, made once."""
    root = CACHE_DIR / f"scaled-{copies}"
    if not (root / COMPLETE_MARKER).is_file():
        if root.exists():
            shutil.rmtree(root)
        width = len(str(copies))
        for i in range(1, copies + 1):
            target = root / f"copy-{i:0{width}d}"
            for name in corpus.files:
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(corpus.root / name, target / name)
        (root / COMPLETE_MARKER).write_text(f"{copies} x {corpus.root.name}\n", encoding="utf-8")
    return load_corpus(root)


# --------------------------------------------------------------------------- tools


def console_script(name: str) -> str:
    """The console script installed beside this interpreter, else the one on PATH."""
    bindir = Path(sys.executable).parent  # not resolved: a venv's python is a symlink
    for candidate in (bindir / name, bindir / f"{name}.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BenchError(f"cannot find the {name!r} console script next to {sys.executable}")
    return found


def main_tools() -> list[Tool]:
    mfkit = console_script("mfkit-lint")
    flake8 = console_script("flake8")
    return [
        Tool("ast.parse floor", [sys.executable, "-c", FLOOR_CODE], note="fresh python -c"),
        Tool(
            "mfkit-lint",
            [mfkit, "--exit-zero", "--format", "concise"],
            counts_findings=True,
        ),
        Tool(
            "mfkit-lint DIR",
            [mfkit, "--exit-zero", "--format", "concise"],
            counts_findings=True,
            pass_files=False,
            note="corpus directory, with discovery",
        ),
        Tool("flake8 --select F", [flake8, "--exit-zero", "--select", "F"], counts_findings=True),
        Tool(
            "flake8 --select MFK", [flake8, "--exit-zero", "--select", "MFK"], counts_findings=True
        ),
        Tool(
            "flake8 (no MFK plugin)",
            [sys.executable, "-c", FLAKE8_WITHOUT_MFK_CODE, "--exit-zero", "--select", "F"],
            counts_findings=True,
            note="--select F, mfkit-lint plugin not loaded",
        ),
    ]


def check_flake8_without_mfk(tool: Tool, cwd: Path) -> Optional[str]:
    """Why the plugin-less flake8 row is not valid, or None if it is."""
    argv = [a for a in tool.argv if a not in ("--exit-zero", "--select", "F")]
    proc = subprocess.run([*argv, "--version"], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        return f"flake8 wrapper failed: {proc.stderr.strip() or proc.stdout.strip()}"
    if "mfkit-lint" in proc.stdout:
        return f"the mfkit-lint plugin is still loaded: {proc.stdout.strip()}"
    return None


# --------------------------------------------------------------------------- measuring


def _children_cpu() -> float:
    """User + system seconds of every waited-for child so far (flake8's workers included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def parse_in_process(corpus: Corpus) -> tuple[float, float]:
    """Wall and CPU seconds to read and parse every file of ``corpus`` in this process."""
    start, start_cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in corpus.files:
            path = corpus.root / name
            with open(path, "rb") as fh:
                ast.parse(fh.read(), str(path))
    return time.perf_counter() - start, time.process_time() - start_cpu


def run_tool(tool: Tool, corpus: Corpus, result: Result) -> None:
    """Run ``tool`` once on ``corpus`` and record the time (or the failure) in ``result``."""
    paths = corpus.files if tool.pass_files else [corpus.package_dir]
    before = _children_cpu()
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [*tool.argv, *paths], cwd=corpus.root, capture_output=True, text=True, errors="replace"
        )
    except OSError as exc:
        result.failure = f"cannot run {tool.argv[0]}: {exc}"
        return
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - before
    result.returncode = proc.returncode
    for line in proc.stderr.splitlines():
        if line.strip() and line not in result.stderr:
            result.stderr.append(line)
    if proc.returncode != 0:
        result.failure = f"exit code {proc.returncode}"
        return
    result.runs.append(elapsed)
    result.cpu_runs.append(cpu)
    if tool.counts_findings:
        result.findings = sum(1 for line in proc.stdout.splitlines() if line.strip())


def measure(tools: Sequence[Tool], corpus: Corpus, repeat: int) -> list[Result]:
    results = [Result(t.name, note=t.note) for t in tools]
    for round_no in range(1, repeat + 1):
        print(f"  round {round_no}/{repeat}:", end="", flush=True)
        for tool, result in zip(tools, results):
            if result.failure is None:
                run_tool(tool, corpus, result)
                shown = f"{result.runs[-1]:.2f}s" if result.failure is None else "FAILED"
                print(f" {tool.name} {shown};", end="", flush=True)
        print(flush=True)
    for result in results:
        if result.failure is None and result.runs:
            result.seconds = min(result.runs)
            result.cpu_seconds = min(result.cpu_runs)
    return results


# --------------------------------------------------------------------------- reporting


def _ratio(value: Optional[float], base: Optional[float]) -> str:
    if value is None or not base:
        return "-"
    return f"{value / base:.2f}x"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    # First column left-aligned, numbers right-aligned.
    def fmt(cells: Sequence[str]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return " | ".join(out).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([fmt(headers), rule, *(fmt(r) for r in rows)])


def main_table(results: Sequence[Result], in_process: tuple[float, float]) -> str:
    """Wall seconds and their ratios; CPU seconds last, steadier than wall time on a busy box."""
    by_name = {r.name: r for r in results}
    floor = by_name["ast.parse floor"].seconds
    flake8_f = by_name["flake8 --select F"].seconds
    rows = []
    for r in results:
        seconds = "FAILED" if r.seconds is None else f"{r.seconds:.3f}"
        cpu = "-" if r.cpu_seconds is None else f"{r.cpu_seconds:.3f}"
        name = r.name + (" (!)" if r.flags else "")
        rows.append([name, seconds, _ratio(r.seconds, floor), _ratio(r.seconds, flake8_f), cpu])
    wall, cpu = in_process
    rows.append(["ast.parse in-process", f"{wall:.3f}", _ratio(wall, floor), "-", f"{cpu:.3f}"])
    return render_table(["name", "seconds", "/ floor", "/ flake8 F", "cpu s"], rows)


def per_100k(seconds: Optional[float], lines: int) -> Optional[float]:
    return None if seconds is None else seconds * 100_000 / lines


def scale_table(
    base: Sequence[Result], base_lines: int, scaled: Sequence[Result], scaled_lines: int, k: int
) -> str:
    def num(value: Optional[float]) -> str:
        return "-" if value is None else f"{value:.3f}"

    base_by_name = {r.name: r for r in base}
    rows = []
    for r in scaled:
        one = per_100k(base_by_name[r.name].seconds, base_lines)
        many = per_100k(r.seconds, scaled_lines)
        cpu_one = per_100k(base_by_name[r.name].cpu_seconds, base_lines)
        cpu_many = per_100k(r.cpu_seconds, scaled_lines)
        rows.append(
            [
                r.name,
                num(one),
                "FAILED" if r.seconds is None else f"{r.seconds:.3f}",
                num(many),
                _ratio(many, one),
                num(cpu_one),
                num(cpu_many),
                _ratio(cpu_many, cpu_one),
            ]
        )
    headers = [
        "name",
        "s/100k lines 1x",
        f"seconds {k}x",
        f"s/100k lines {k}x",
        f"{k}x / 1x",
        "cpu s/100k 1x",
        f"cpu s/100k {k}x",
        f"cpu {k}x / 1x",
    ]
    return render_table(headers, rows)


def flag_suspicious(results: Sequence[Result], in_process_cpu: float) -> None:
    """Flag the tools that used less CPU than parsing the corpus once: they skipped files."""
    for r in results:
        cpu = r.cpu_seconds
        if r.name != "ast.parse floor" and cpu is not None and cpu < in_process_cpu:
            r.flags.append(
                f"{r.name} used {cpu:.3f} CPU seconds, less than parsing the corpus in-process "
                f"({in_process_cpu:.3f}s): it cannot have parsed every file"
            )


def print_problems(results: Sequence[Result]) -> None:
    for r in results:
        for flag in r.flags:
            print(f"(!) {flag}")
        if r.failure:
            print(f"FAILED: {r.name}: {r.failure}")
        if r.stderr:
            print(f"stderr of {r.name} ({len(r.stderr)} distinct lines):")
            for line in r.stderr[:50]:
                print(f"    {line}")
            if len(r.stderr) > 50:
                print(f"    ... {len(r.stderr) - 50} more")


# --------------------------------------------------------------------------- main


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time mfkit-lint against the ast.parse floor and flake8 on Metaflow's source.",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, metavar="N", help="runs per tool; the best counts (3)"
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=0,
        metavar="K",
        help="also lint K copies of the corpus and print seconds per 100k lines",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the numbers here")
    parser.add_argument(
        "--metaflow-version",
        default=METAFLOW_VERSION,
        metavar="VERSION",
        help=f"the metaflow release used as the corpus ({METAFLOW_VERSION})",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.scale < 0 or args.scale == 1:
        parser.error("--scale must be 2 or more")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        corpus = fetch_corpus(args.metaflow_version)
        tools = main_tools()
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2

    print(f"corpus: metaflow {args.metaflow_version} at {corpus.root}")
    print(f"corpus: {len(corpus.files)} files, {corpus.lines} lines")
    print(
        f"python {platform.python_version()} on {platform.system()}, "
        f"{os.cpu_count()} CPUs; best of {args.repeat}"
    )

    plugin_less = next(t for t in tools if t.name == "flake8 (no MFK plugin)")
    invalid = check_flake8_without_mfk(plugin_less, corpus.root)
    if invalid:
        print(f"skipping '{plugin_less.name}': {invalid}")
        tools.remove(plugin_less)

    parses = [parse_in_process(corpus) for _ in range(args.repeat)]
    in_process = (min(w for w, _ in parses), min(c for _, c in parses))
    results = measure(tools, corpus, args.repeat)
    flag_suspicious(results, in_process[1])

    print()
    print(main_table(results, in_process))
    mfkit = next(r for r in results if r.name == "mfkit-lint")
    print(f"\nmfkit-lint findings on the corpus: {mfkit.findings}")
    for r in results:
        if r.findings is not None and r.name != "mfkit-lint":
            print(f"{r.name} findings: {r.findings}")
    print_problems(results)

    report: dict[str, Any] = {
        "metaflow_version": args.metaflow_version,
        "files": len(corpus.files),
        "lines": corpus.lines,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "ast_parse_in_process_seconds": in_process[0],
        "ast_parse_in_process_cpu_seconds": in_process[1],
        "results": [asdict(r) for r in results],
    }
    all_results = list(results)

    if args.scale:
        scaled = scaled_corpus(corpus, args.scale)
        print(f"\nscaled corpus: {len(scaled.files)} files, {scaled.lines} lines at {scaled.root}")
        scale_tools = [t for t in tools if t.name in ("ast.parse floor", "mfkit-lint")]
        scaled_results = measure(scale_tools, scaled, args.repeat)
        print()
        print(scale_table(results, corpus.lines, scaled_results, scaled.lines, args.scale))
        print_problems(scaled_results)
        all_results += scaled_results
        report["scale"] = {
            "copies": args.scale,
            "files": len(scaled.files),
            "lines": scaled.lines,
            "results": [asdict(r) for r in scaled_results],
        }

    total = time.perf_counter() - started
    report["total_seconds"] = total
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    print(f"\nbench took {total:.1f}s")
    return 1 if any(r.failure for r in all_results) else 0


if __name__ == "__main__":
    sys.exit(main())
