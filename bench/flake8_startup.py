"""What the mfkit-lint flake8 plugin costs a flake8 run that does not select MFK.

flake8 imports every installed plugin on every run and, whatever ``--select`` says, calls every
tree plugin on every file, filtering the reports afterwards. So the plugin must be cheap both to
import and to call when its codes are not selected. Two measurements:

1. Import time. ``python -X importtime -c "import mfkit_lint.flake8_plugin"`` in a fresh
   process, best of ``--repeat``: the cumulative microseconds of the plugin module (what flake8
   pays to load the entry point), and a check that none of the engine (``mfkit_lint.engine``,
   the rules, libcst) was imported with it.

2. flake8 wall time on a small tree, best of ``--repeat`` with the variants interleaved round by
   round: ``flake8 --select E,F,W`` (the plugin installed but not selected), the same with the
   mfkit-lint entry point dropped before flake8 loads its plugins (as if it were not installed),
   and ``flake8 --select E,F,W,MFK`` for reference. Each is run with ``--jobs 1`` (no worker
   processes: the pure start-up plus checking cost) and with flake8's default ``--jobs``.

The small tree (``--files`` files, written to a temporary directory) is a mix of ordinary
modules and copies of the bundled example extension, which does contain findings.

    python bench/flake8_startup.py [--repeat 7] [--files 40]

Slowness is reported, never failed; the script exits non-zero only when a run fails.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "metaflow-localsched"

FLAKE8_WITHOUT_MFK = """\
import sys
from flake8.plugins import finder
_find = finder.find_plugins
finder.find_plugins = lambda cfg, opts: [p for p in _find(cfg, opts) if p.package != "mfkit-lint"]
from flake8.main.cli import main
sys.exit(main())
"""

PLAIN_MODULE = '''\
"""An ordinary module: nothing for mfkit-lint to find."""

import json
import os
from dataclasses import dataclass


@dataclass
class Item{n}:
    name: str
    size: int = 0

    def describe(self) -> str:
        return "%s (%d bytes)" % (self.name, self.size)


def load_{n}(path):
    with open(path) as fh:
        data = json.load(fh)
    return [Item{n}(d["name"], d.get("size", 0)) for d in data if d]


def walk_{n}(root):
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            yield os.path.join(dirpath, name)
'''

_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)\s*$")


def make_tree(root: Path, count: int) -> int:
    """``count`` Python files under ``root``: ordinary modules and the example's files."""
    example = sorted(EXAMPLE.rglob("*.py"))
    written = 0
    copy = 0
    while written < count:
        if example and written % 4 == 0:  # every fourth file is extension code
            src = example[copy % len(example)]
            dest = root / f"ext{copy}" / src.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            copy += 1
        else:
            dest = root / "pkg" / f"mod{written}.py"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(PLAIN_MODULE.format(n=written), encoding="utf-8")
        written += 1
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in root.rglob("*.py"))


# What flake8 has imported by the time it loads its plugins.
FLAKE8_LOADED = "import flake8.main.application, flake8.checker, flake8.style_guide"


def import_time(repeat: int, after_flake8: bool) -> tuple[int, int, list[str]]:
    """Best cumulative µs of the plugin module and of the interpreter's own ``site``, and the
    mfkit_lint modules that came with the plugin. ``after_flake8``: import flake8 first, so
    that only what the plugin adds is counted (what a flake8 run pays for it)."""
    best_plugin = best_site = None
    modules: list[str] = []
    code = "import mfkit_lint.flake8_plugin"
    if after_flake8:
        code = f"{FLAKE8_LOADED}; {code}"
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True,
            text=True,
            check=True,
        )
        plugin = site = None
        modules = []
        for line in proc.stderr.splitlines():
            m = _IMPORTTIME.match(line)
            if not m:
                continue
            name = m[4]
            if name.startswith("mfkit_lint") or name.startswith("libcst"):
                modules.append(name)
            if name == "mfkit_lint.flake8_plugin":
                plugin = int(m[2])
            if name == "site":
                site = int(m[2])
        if plugin is None:
            raise RuntimeError("mfkit_lint.flake8_plugin not in the -X importtime output")
        best_plugin = plugin if best_plugin is None else min(best_plugin, plugin)
        if site is not None:
            best_site = site if best_site is None else min(best_site, site)
    return best_plugin or 0, best_site or 0, modules


def flake8_argv(with_plugin: bool) -> list[str]:
    if with_plugin:
        return [sys.executable, "-m", "flake8"]
    return [sys.executable, "-c", FLAKE8_WITHOUT_MFK]


def check_plugin_dropped() -> None:
    with_ = subprocess.run([*flake8_argv(True), "--version"], capture_output=True, text=True)
    without = subprocess.run([*flake8_argv(False), "--version"], capture_output=True, text=True)
    if "mfkit-lint" not in with_.stdout:
        raise RuntimeError(f"the mfkit-lint plugin is not installed: {with_.stdout.strip()}")
    if without.returncode != 0 or "mfkit-lint" in without.stdout:
        raise RuntimeError(f"could not drop the plugin: {without.stdout}{without.stderr}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (flake8's workers included) and stdout of one run."""
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1) or "Traceback" in proc.stderr:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return elapsed, _children_cpu() - cpu, proc.stdout


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per variant (best is kept)")
    parser.add_argument("--files", type=int, default=40, help="files in the small tree")
    args = parser.parse_args(argv)

    for after_flake8 in (False, True):
        plugin_us, site_us, modules = import_time(args.repeat, after_flake8)
        engine = [m for m in modules if m.startswith(("mfkit_lint.engine", "mfkit_lint.rules"))]
        engine += [m for m in modules if m.startswith("libcst")]
        where = "after flake8's own imports" if after_flake8 else "in a bare interpreter"
        print(
            f"import mfkit_lint.flake8_plugin {where}: {plugin_us / 1000:.2f} ms cumulative "
            f"(best of {args.repeat}; the interpreter's own 'site': {site_us / 1000:.2f} ms)"
        )
        print(f"  mfkit_lint modules imported with it: {', '.join(modules) or '-'}")
        print(f"  engine, rules or libcst imported at load time: {', '.join(engine) or 'none'}")

    check_plugin_dropped()
    variants = [
        ("flake8 --select E,F,W (plugin not loaded)", False, "E,F,W"),
        ("flake8 --select E,F,W (plugin installed)", True, "E,F,W"),
        ("flake8 --select E,F,W,MFK", True, "E,F,W,MFK"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        lines = make_tree(tree, args.files)
        print(
            f"\nflake8 on {args.files} files ({lines} lines), best of {args.repeat}: wall seconds "
            "(median), CPU seconds (user + system, workers included), each also as the "
            "difference to flake8 without the plugin"
        )
        for jobs in ("1", "auto"):
            wall: dict[str, list[float]] = {name: [] for name, _, _ in variants}
            cpu: dict[str, list[float]] = {name: [] for name, _, _ in variants}
            outputs: dict[str, str] = {}
            for _ in range(args.repeat):
                for name, with_plugin, select in variants:
                    argv_ = [*flake8_argv(with_plugin), "--isolated", "--jobs", jobs]
                    argv_ += ["--select", select, "--max-line-length", "100", "."]
                    seconds, cpu_seconds, out = timed(argv_, tree)
                    wall[name].append(seconds)
                    cpu[name].append(cpu_seconds)
                    outputs[name] = out
            base_wall = min(wall[variants[0][0]])
            base_cpu = min(cpu[variants[0][0]])
            print(f"  --jobs {jobs}:")
            for name, _, _ in variants:
                best = min(wall[name])
                median = sorted(wall[name])[len(wall[name]) // 2]
                best_cpu = min(cpu[name])
                mfk = sum(1 for line in outputs[name].splitlines() if ": MFK" in line)
                print(
                    f"    {name:<42} wall {best:.3f} s ({median:.3f}) "
                    f"{1000 * (best - base_wall):+6.0f} ms | CPU {best_cpu:.3f} s "
                    f"{1000 * (best_cpu - base_cpu):+6.0f} ms | MFK findings: {mfk}"
                )
    print(f"\npython {sys.version.split()[0]} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
