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
* ``mfkit-lint cold``: ``mfkit-lint --exit-zero --format concise FILES`` with an empty cache
  (deleted before each run) and the default ``--jobs`` (the CPU count): what a first run costs,
  writing the cache included. Its findings are the lines of that output.
* ``mfkit-lint warm``: the same again, every file found in the cache the cold run wrote.
* ``mfkit-lint --fix --diff``: computes every fix (``--no-cache``, nothing is written): the
  cost of ``--fix`` on a tree. libcst is imported only for files that have a fix to compute.
* ``mfkit-lint --jobs 1``: ``--no-cache --jobs 1``, everything in one process.
* ``mfkit-lint --jobs 1, no prefilter``: the same with the byte prefilter switched off (every
  rule runs on every file, whether or not the file holds one of the rule's trigger words).
* ``mfkit-lint DIR``: cold, on the corpus directory rather than the file list, which adds
  discovery. (``bench/.corpus/`` is gitignored; a directory named on the command line is
  linted all the same.)
* ``flake8 --select F`` and ``flake8 --select MFK``: flake8 with its default ``--jobs``. flake8
  runs every installed plugin whatever ``--select`` says (pycodestyle and mccabe as well as
  pyflakes) and filters the reports afterwards. ``flake8 (no MFK plugin)`` is flake8 ``--select
  F`` with the mfkit-lint entry point dropped before flake8 loads its plugins: the flake8 cost a
  project pays before it adopts the plugin. ``MFK plugin in flake8`` is the difference between
  ``flake8 --select MFK`` and that: what the plugin adds to a flake8 run.

The cache of the mfkit-lint rows lives in ``bench/.corpus/cache`` (``$MFKIT_LINT_CACHE_DIR``),
never in the checkout. Every tool runs with Python's bytecode cache on (``PYTHONPYCACHEPREFIX``
in ``bench/.corpus/pycache``, ``PYTHONDONTWRITEBYTECODE`` unset), as an installed package has
it: a checkout run under ``PYTHONDONTWRITEBYTECODE=1`` would compile mfkit-lint's own source
on every start, which no user pays.

``--scale 2,4`` also lints 2 and 4 copies of the corpus (``bench/.corpus/scaled-K``) with the
floor and mfkit-lint (cold, warm, one process) and prints seconds per 100k lines at each size:
equal figures mean linear scaling.

Besides wall time, the table shows the CPU seconds (user + system, worker processes included)
of the best run: on a busy machine they vary far less than wall time, and they show what
parallel jobs cost in total. ``peak MB`` is the largest resident set of the run (``wait4``'s
``ru_maxrss``: the biggest single process of the tool, its workers included, not their sum).

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
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

METAFLOW_VERSION = "2.19.39"
BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".corpus"
LINT_CACHE = CACHE_DIR / "cache"  # mfkit-lint's cache for the runs below
PYCACHE = CACHE_DIR / "pycache"


def bench_env() -> dict[str, str]:
    """The environment of every timed run: bytecode cached, the lint cache in bench/.corpus."""
    env = dict(os.environ, MFKIT_LINT_CACHE_DIR=str(LINT_CACHE), PYTHONPYCACHEPREFIX=str(PYCACHE))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


COMPLETE_MARKER = ".complete"

FLOOR_CODE = """\
import ast, sys, warnings
warnings.simplefilter("ignore")
for name in sys.argv[1:]:
    with open(name, "rb") as fh:
        ast.parse(fh.read(), name)
"""

# mfkit-lint with the byte prefilter switched off: every rule runs on every file.
MFKIT_WITHOUT_PREFILTER_CODE = """\
import sys
from mfkit_lint.engine.rule import Rule
Rule.might_apply = classmethod(lambda cls, raw, searched=None: True)
from mfkit_lint.cli import lint_command
lint_command.main(sys.argv[1:], prog_name="mfkit-lint")
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
    before: Optional[Callable[[Corpus], None]] = None  # untimed, before each run
    parses: bool = True  # False: allowed to use less CPU than parsing (a warm cache)


@dataclass
class Result:
    name: str
    seconds: Optional[float] = None  # best of the runs; None if the tool failed
    runs: list[float] = field(default_factory=list)
    cpu_seconds: Optional[float] = None  # user + system time of the process tree, best run
    cpu_runs: list[float] = field(default_factory=list)
    peak_mb: Optional[float] = None  # largest ru_maxrss over the runs
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
    # Metaflow's checkout is a project of its own (its repository has setup.py): mark the
    # corpus' root so that mfkit-lint takes the corpus, not this repository, as each file's
    # project (the nearest pyproject.toml/setup.py/setup.cfg/.git).
    (root / "setup.cfg").touch()
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


def clear_lint_cache(corpus: Corpus) -> None:
    shutil.rmtree(LINT_CACHE, ignore_errors=True)


def fill_lint_cache(corpus: Corpus) -> None:
    """Make sure the warm run finds a cache for this corpus (the cold run before it wrote it)."""
    marker = LINT_CACHE / f".filled-{corpus.root.name}"
    if not marker.exists():
        clear_lint_cache(corpus)
        args = [console_script("mfkit-lint"), "--exit-zero", "--format", "concise"]
        subprocess.run(
            [*args, *corpus.files],
            cwd=corpus.root,
            capture_output=True,
            env=bench_env(),
        )  # (a failure shows in the timed runs)
        LINT_CACHE.mkdir(parents=True, exist_ok=True)
        marker.touch()


def mfkit_tools() -> list[Tool]:
    """The mfkit-lint rows of both tables."""
    lint = [console_script("mfkit-lint"), "--exit-zero", "--format", "concise"]

    def cold(corpus: Corpus) -> None:
        clear_lint_cache(corpus)
        LINT_CACHE.mkdir(parents=True, exist_ok=True)
        (LINT_CACHE / f".filled-{corpus.root.name}").touch()  # by the run about to start

    return [
        Tool("mfkit-lint cold", lint, counts_findings=True, before=cold, note="empty cache"),
        Tool(
            "mfkit-lint warm",
            lint,
            counts_findings=True,
            before=fill_lint_cache,
            parses=False,
            note="every file cached",
        ),
        Tool(
            "mfkit-lint --jobs 1",
            [*lint, "--no-cache", "--jobs", "1"],
            counts_findings=True,
            note="--no-cache, one process",
        ),
    ]


def main_tools() -> list[Tool]:
    mfkit = console_script("mfkit-lint")
    flake8 = console_script("flake8")
    cold, warm, one = mfkit_tools()
    return [
        Tool("ast.parse floor", [sys.executable, "-c", FLOOR_CODE], note="fresh python -c"),
        cold,
        warm,
        Tool(
            "mfkit-lint --fix --diff",
            [mfkit, "--exit-zero", "--fix", "--diff", "--no-cache"],
            note="every fix computed, --no-cache",
        ),
        one,
        Tool(
            "mfkit-lint --jobs 1, no prefilter",
            [sys.executable, "-c", MFKIT_WITHOUT_PREFILTER_CODE, *one.argv[1:]],
            counts_findings=True,
            note="Rule.might_apply always true",
        ),
        Tool(
            "mfkit-lint DIR",
            [mfkit, "--exit-zero", "--format", "concise"],
            counts_findings=True,
            pass_files=False,
            before=cold.before,
            note="corpus directory, with discovery; empty cache",
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
    proc = subprocess.run(
        [*argv, "--version"], cwd=cwd, capture_output=True, text=True, env=bench_env()
    )
    if proc.returncode != 0:
        return f"flake8 wrapper failed: {proc.stderr.strip() or proc.stdout.strip()}"
    if "mfkit-lint" in proc.stdout:
        return f"the mfkit-lint plugin is still loaded: {proc.stdout.strip()}"
    return None


# --------------------------------------------------------------------------- measuring


def _maxrss_mb(usage: resource.struct_rusage) -> float:
    # Linux reports kilobytes, macOS bytes.
    return usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


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
    """Run ``tool`` once on ``corpus`` and record the time (or the failure) in ``result``.

    The process is reaped with ``os.wait4``, which gives this one run's CPU time and peak RSS
    (``getrusage(RUSAGE_CHILDREN)`` would give the maximum over every run so far)."""
    paths = corpus.files if tool.pass_files else [corpus.package_dir]
    if tool.before is not None:
        tool.before(corpus)
    env = bench_env()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                [*tool.argv, *paths], cwd=corpus.root, stdout=out, stderr=err, env=env
            )
        except OSError as exc:
            result.failure = f"cannot run {tool.argv[0]}: {exc}"
            return
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    result.returncode = proc.returncode
    for line in stderr.splitlines():
        if line.strip() and line not in result.stderr:
            result.stderr.append(line)
    if proc.returncode != 0:
        result.failure = f"exit code {proc.returncode}"
        return
    result.runs.append(elapsed)
    result.cpu_runs.append(usage.ru_utime + usage.ru_stime)
    result.peak_mb = max(result.peak_mb or 0.0, _maxrss_mb(usage))
    if tool.counts_findings:
        result.findings = sum(1 for line in stdout.splitlines() if line.strip())


def warm_up(tools: Sequence[Tool], corpus: Corpus) -> None:
    """Run each tool once, untimed, on a few files: Python's bytecode cache gets filled."""
    for tool in tools:
        subprocess.run(
            [*tool.argv, *corpus.files[:10]], cwd=corpus.root, capture_output=True, env=bench_env()
        )


def measure(tools: Sequence[Tool], corpus: Corpus, repeat: int) -> list[Result]:
    warm_up(tools, corpus)
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


def _mb(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.0f}"


PLUGIN_ROW = "MFK plugin in flake8"


def plugin_cost(results: Sequence[Result]) -> Optional[Result]:
    """``flake8 --select MFK`` minus flake8 without the plugin: what the plugin adds."""
    by_name = {r.name: r for r in results}
    with_mfk, without = by_name.get("flake8 --select MFK"), by_name.get("flake8 (no MFK plugin)")
    if with_mfk is None or without is None or with_mfk.seconds is None or without.seconds is None:
        return None
    cost = Result(PLUGIN_ROW, note="flake8 --select MFK minus flake8 (no MFK plugin)")
    cost.seconds = with_mfk.seconds - without.seconds
    if with_mfk.cpu_seconds is not None and without.cpu_seconds is not None:
        cost.cpu_seconds = with_mfk.cpu_seconds - without.cpu_seconds
    if with_mfk.peak_mb is not None and without.peak_mb is not None:
        cost.peak_mb = with_mfk.peak_mb - without.peak_mb
    return cost


def main_table(results: Sequence[Result], in_process: tuple[float, float]) -> str:
    """Wall seconds and their ratios, CPU seconds (steadier than wall time on a busy box), and
    peak memory with its ratios."""
    by_name = {r.name: r for r in results}
    floor, flake8_f = by_name["ast.parse floor"], by_name["flake8 --select F"]
    rows = []
    cost = plugin_cost(results)
    for r in [*results, *([cost] if cost else [])]:
        seconds = "FAILED" if r.seconds is None else f"{r.seconds:.3f}"
        cpu = "-" if r.cpu_seconds is None else f"{r.cpu_seconds:.3f}"
        name = r.name + (" (!)" if r.flags else "")
        rows.append(
            [
                name,
                seconds,
                _ratio(r.seconds, floor.seconds),
                _ratio(r.seconds, flake8_f.seconds),
                cpu,
                _mb(r.peak_mb),
                _ratio(r.peak_mb, floor.peak_mb),
                _ratio(r.peak_mb, flake8_f.peak_mb),
            ]
        )
    wall, cpu = in_process
    rows.append(
        ["ast.parse in-process", f"{wall:.3f}", _ratio(wall, floor.seconds), "-", f"{cpu:.3f}"]
        + ["-"] * 3
    )
    headers = ["name", "seconds", "/ floor", "/ flake8 F", "cpu s", "peak MB", "mem / floor"]
    return render_table([*headers, "mem / flake8 F"], rows)


def per_100k(seconds: Optional[float], lines: int) -> Optional[float]:
    return None if seconds is None else seconds * 100_000 / lines


def scale_table(sizes: Sequence[tuple[int, int, Sequence[Result]]]) -> str:
    """One row per tool: seconds per 100k lines at each size (and its ratio to the floor's), and
    the last size's figure over the first's: 1.00x is linear."""

    def num(value: Optional[float]) -> str:
        return "-" if value is None else f"{value:.3f}"

    names = [r.name for r in sizes[0][2]]
    rows = []
    for name in names:
        row = [name]
        figures = []
        for _, lines, results in sizes:
            by_name = {r.name: r for r in results}
            figure = per_100k(by_name[name].seconds, lines)
            floor = per_100k(by_name["ast.parse floor"].seconds, lines)
            figures.append(figure)
            row += [num(figure), _ratio(figure, floor)]
        row.append(_ratio(figures[-1], figures[0]))
        rows.append(row)
    headers = ["name"]
    for copies, _, _ in sizes:
        headers += [f"s/100k lines {copies}x", f"/ floor {copies}x"]
    headers.append(f"{sizes[-1][0]}x / {sizes[0][0]}x")
    return render_table(headers, rows)


def flag_suspicious(
    tools: Sequence[Tool], results: Sequence[Result], in_process_cpu: float
) -> None:
    """Flag the tools that used less CPU than parsing the corpus once: they skipped files."""
    for tool, r in zip(tools, results):
        cpu = r.cpu_seconds
        if tool.parses and r.name != "ast.parse floor" and cpu is not None and cpu < in_process_cpu:
            r.flags.append(
                f"{r.name} used {cpu:.3f} CPU seconds, less than parsing the corpus in-process "
                f"({in_process_cpu:.3f}s): it cannot have parsed every file"
            )


# The targets of issue 9: a cached run is mostly start-up, a cold one mostly parsing.
RATIO_TARGETS = {"mfkit-lint warm": 0.2, "mfkit-lint cold": 1.5}


def target_ratios(
    results: Sequence[Result], measure: str = "seconds"
) -> dict[str, Optional[float]]:
    """Warm and cold wall time over the ast.parse floor's, measured in this run; with
    ``measure="cpu_seconds"`` the same in CPU seconds (on a shared machine they vary far less
    than wall time; for the cold run with parallel jobs they are the total work)."""
    by_name = {r.name: r for r in results}
    floor = getattr(by_name.get("ast.parse floor"), measure, None)
    ratios: dict[str, Optional[float]] = {}
    for name in RATIO_TARGETS:
        value = getattr(by_name.get(name), measure, None)
        ratios[name] = value / floor if floor and value is not None else None
    return ratios


def print_ratios(ratios: dict[str, Optional[float]], cpu: dict[str, Optional[float]]) -> None:
    for name, ratio in ratios.items():
        shown = "failed" if ratio is None else f"{ratio:.2f}x"
        in_cpu = "" if cpu.get(name) is None else f"; CPU seconds {cpu[name]:.2f}x"
        print(f"{name} / ast.parse floor: {shown} (target <= {RATIO_TARGETS[name]:.2f}x{in_cpu})")


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
        default="",
        metavar="K[,K...]",
        help="also lint K copies of the corpus (e.g. 2,4) and print seconds per 100k lines",
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
    try:
        args.scale = sorted({int(k) for k in args.scale.split(",") if k.strip()})
    except ValueError:
        parser.error("--scale takes numbers, e.g. 2,4")
    if any(k < 2 for k in args.scale):
        parser.error("--scale sizes must be 2 or more")
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
    flag_suspicious(tools, results, in_process[1])

    print()
    print(main_table(results, in_process))
    print()
    ratios = target_ratios(results)
    cpu = target_ratios(results, "cpu_seconds")
    print_ratios(ratios, cpu)
    mfkit = next(r for r in results if r.name == "mfkit-lint cold")
    print(f"\nmfkit-lint findings on the corpus: {mfkit.findings}")
    for r in results:
        if r.findings is not None and r.name != mfkit.name:
            print(f"{r.name} findings: {r.findings}")
    print_problems(results)

    cost = plugin_cost(results)
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
        "ratios_to_floor": ratios,
        "cpu_ratios_to_floor": cpu,
        "results": [asdict(r) for r in results] + ([asdict(cost)] if cost else []),
    }
    all_results = list(results)

    if args.scale:
        scale_tools = [Tool("ast.parse floor", [sys.executable, "-c", FLOOR_CODE]), *mfkit_tools()]
        by_name = {r.name: r for r in results}
        sizes = [(1, corpus.lines, [by_name[t.name] for t in scale_tools])]
        report["scale"] = []
        for copies in args.scale:
            scaled = scaled_corpus(corpus, copies)
            print(f"\n{copies}x corpus: {len(scaled.files)} files, {scaled.lines} lines")
            scaled_results = measure(scale_tools, scaled, args.repeat)
            print_problems(scaled_results)
            all_results += scaled_results
            sizes.append((copies, scaled.lines, scaled_results))
            report["scale"].append(
                {
                    "copies": copies,
                    "files": len(scaled.files),
                    "lines": scaled.lines,
                    "results": [asdict(r) for r in scaled_results],
                }
            )
        print()
        print(scale_table(sizes))

    total = time.perf_counter() - started
    report["total_seconds"] = total
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    print(f"\nbench took {total:.1f}s")
    return 1 if any(r.failure for r in all_results) else 0


if __name__ == "__main__":
    sys.exit(main())
