"""Two copies of one package in what is linted: each copy is judged by its own files.

A project may hold the same package twice (a vendored copy, a fixture, a tree copied side by
side, a benchmark corpus). A program imports only the copy on its own path, so a question about
"the rest of the project" asked from one copy must not be answered by the other copy: with both
correct nothing is reported, with both wrong both are, with one wrong only that one. And a copy
that sits in a gitignored directory of a repository is a project of its own (its package
tree), not a file of the repository that the repository's listing leaves out.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import invoke
from test_backend_rules import CLI, EXECUTOR
from test_project import BUILDER, CALLER_WITH_COUNTER, CALLER_WITHOUT_COUNTER

from mfkit_lint.model.project import ProjectIndex

# A backend whose ``step`` launches @parallel nodes; the executor module beside it sets (or
# does not set) METAFLOW_RUNTIME_ENVIRONMENT in the job: MFK606 reads the other modules.
PARALLEL_CLI = CLI.replace(
    '@click.option("--namespace")\n',
    '@click.option("--namespace")\n@click.option("--num-parallel", default=0)\n',
).replace("from .executor import", "from mybackend.executor import")
SETS_RUNTIME = 'JOB_ENV = {"METAFLOW_RUNTIME_ENVIRONMENT": "mybackend"}\n'


def _write(path: Path, code: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code))


def backend_copy(directory: Path, correct: bool) -> None:
    """``directory/mybackend``: the backend package, with or without the runtime variable."""
    package = directory / "mybackend"
    _write(package / "__init__.py", "")
    _write(package / "cli.py", PARALLEL_CLI)
    _write(package / "executor.py", textwrap.dedent(EXECUTOR) + (SETS_RUNTIME if correct else ""))


def builder_copy(directory: Path, correct: bool) -> None:
    """``directory/ext``: a step-command builder whose only caller passes the retry counter
    (correct) or leaves it at its default of 0 (MFK101 on the builder)."""
    package = directory / "ext"
    _write(package / "__init__.py", "")
    _write(package / "builder.py", BUILDER)
    _write(package / "caller.py", CALLER_WITH_COUNTER if correct else CALLER_WITHOUT_COUNTER)


def _findings(root: Path, *paths: str, cwd: Path | None = None) -> set[tuple[str, str]]:
    result = invoke("--format", "json", "--exit-zero", "--no-cache", *paths, cwd=cwd or root)
    assert result.returncode == 0, result.stderr
    return {
        (Path(d["filename"]).resolve().relative_to(root.resolve()).as_posix(), d["code"])
        for d in json.loads(result.stdout)
    }


CASES = [(True, True), (False, False), (False, True), (True, False)]


# The callers of a builder are looked for in the builder's own copy only: the other copy's
# caller neither hides a finding nor makes a correct copy look wrong (MFK101); MFK606 looks for
# the environment variable in its own copy only.
COPIES = [
    pytest.param(backend_copy, "MFK606", "mybackend/cli.py", id="backend"),
    pytest.param(builder_copy, "MFK101", "ext/builder.py", id="builder"),
]


@pytest.mark.parametrize(("make_copy", "code", "module"), COPIES)
@pytest.mark.parametrize(("a_correct", "b_correct"), CASES)
def test_two_copies_in_one_project(
    tmp_path: Path, make_copy, code: str, module: str, a_correct: bool, b_correct: bool
):
    (tmp_path / "setup.cfg").write_text("")  # one project holding both copies
    make_copy(tmp_path / "copy-a", a_correct)
    make_copy(tmp_path / "copy-b", b_correct)
    found = {f for f in _findings(tmp_path, ".") if f[1] == code}
    expected = {
        (f"{name}/{module}", code)
        for name, correct in (("copy-a", a_correct), ("copy-b", b_correct))
        if not correct
    }
    assert found == expected


def test_each_copy_finds_as_it_does_alone(tmp_path: Path):
    alone = tmp_path / "alone"
    (alone / "setup.cfg").parent.mkdir()
    (alone / "setup.cfg").write_text("")
    backend_copy(alone / "copy-a", correct=False)
    builder_copy(alone / "copy-a", correct=False)
    together = tmp_path / "together"
    together.mkdir()
    (together / "setup.cfg").write_text("")
    for name in ("copy-a", "copy-b"):
        backend_copy(together / name, correct=False)
        builder_copy(together / name, correct=False)
    single = _findings(alone, ".")
    assert {code for _, code in single} >= {"MFK101", "MFK606"}
    both = _findings(together, ".")
    for name in ("copy-a", "copy-b"):
        mine = {(p.replace(name, "copy-a", 1), c) for p, c in both if p.startswith(name + "/")}
        assert mine == single


def test_an_import_is_resolved_in_the_importers_own_copy(tmp_path: Path):
    for name in ("copy-a", "copy-b"):
        backend_copy(tmp_path / name, correct=True)
    _write(tmp_path / "run.py", "from mybackend.executor import run_job\n")
    files = sorted(tmp_path.rglob("*.py"))
    index = ProjectIndex(files)
    cli_a = tmp_path / "copy-a" / "mybackend" / "cli.py"
    executor_a = tmp_path / "copy-a" / "mybackend" / "executor.py"
    executor_b = tmp_path / "copy-b" / "mybackend" / "executor.py"
    assert index.path_named(cli_a, "mybackend.executor") == executor_a
    # A script outside both copies may run with either: no answer.
    assert index.path_named(tmp_path / "run.py", "mybackend.executor") is None
    assert index.sees(cli_a, executor_a) and not index.sees(cli_a, executor_b)
    assert index.sees(tmp_path / "run.py", executor_a) and index.sees(
        tmp_path / "run.py", executor_b
    )
    assert index.sees(cli_a, tmp_path / "run.py")  # a module of no package belongs to no copy
    mentioning = index.modules_mentioning("METAFLOW_RUNTIME_ENVIRONMENT", besides=cli_a)
    assert [m.path for m in mentioning] == [executor_a]


def test_a_package_of_another_name_is_no_copy(tmp_path: Path):
    backend_copy(tmp_path / "one", correct=False)
    _write(tmp_path / "two" / "helpers" / "__init__.py", "")
    _write(tmp_path / "two" / "helpers" / "env.py", SETS_RUNTIME)
    index = ProjectIndex(sorted(tmp_path.rglob("*.py")))
    cli = tmp_path / "one" / "mybackend" / "cli.py"
    assert index.sees(cli, tmp_path / "two" / "helpers" / "env.py")


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A repository whose .gitignore leaves out ``corpus/``, which holds two copies of the
    backend (no project marker of their own): a correct one and a wrong one."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("corpus/\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'tool'\n")
    _write(tmp_path / "tool" / "__init__.py", "")
    _write(tmp_path / "tool" / "main.py", "print('METAFLOW_RUNTIME_ENVIRONMENT')\n")
    backend_copy(tmp_path / "corpus" / "good", correct=True)
    backend_copy(tmp_path / "corpus" / "bad", correct=False)
    return tmp_path


def test_a_copy_in_a_gitignored_directory_is_its_own_project(repository: Path):
    """The repository's listing leaves ``corpus/`` out, so its project knows neither copy's
    executor: the copy's own package tree is the project, however the file is named."""
    expected = {("corpus/bad/mybackend/cli.py", "MFK606")}
    corpus = repository / "corpus"
    assert _findings(repository, "corpus", cwd=repository) == expected
    assert _findings(repository, ".", cwd=corpus) == expected
    good = corpus / "good" / "mybackend" / "cli.py"
    bad = corpus / "bad" / "mybackend" / "cli.py"
    assert _findings(repository, str(good), cwd=repository) == set()
    assert _findings(repository, str(bad), cwd=repository) == expected


def test_a_file_excluded_by_name_keeps_its_repository(repository: Path):
    """Only the directory decides: a file whose own name is excluded (its directory is
    listed) and that is named on the command line is linted with its repository, where a
    module outside its package sets the variable."""
    (repository / ".gitignore").write_text("corpus/\nlaunch.py\n")
    backend_copy(repository / "src", correct=False)
    launch = repository / "src" / "mybackend" / "launch.py"
    launch.write_text((repository / "src" / "mybackend" / "cli.py").read_text())
    expected = {("src/mybackend/launch.py", "MFK606")}
    assert _findings(repository, str(launch), cwd=repository) == expected
    _write(repository / "tool" / "jobs.py", SETS_RUNTIME)
    assert _findings(repository, str(launch), cwd=repository) == set()


def test_the_package_tree_of_a_left_out_file(tmp_path: Path):
    from mfkit_lint.engine.discovery import package_root

    _write(tmp_path / "corpus" / "copy-1" / "pkg" / "__init__.py", "")
    _write(tmp_path / "corpus" / "copy-1" / "pkg" / "sub" / "__init__.py", "")
    # A directory of scripts inside the package (no __init__.py): still its tree.
    script = tmp_path / "corpus" / "copy-1" / "pkg" / "tutorials" / "one" / "flow.py"
    _write(script, "")
    loose = tmp_path / "corpus" / "scripts" / "run.py"
    _write(loose, "")
    _write(tmp_path / "gen" / "__init__.py", "")
    generated = tmp_path / "gen" / "out" / "x.py"
    _write(generated, "")
    copy = tmp_path / "corpus" / "copy-1"
    assert package_root(copy / "pkg" / "sub" / "m.py", tmp_path) == copy
    assert package_root(script, tmp_path) == copy
    assert package_root(loose, tmp_path) == loose.parent
    # Never the project itself: a package right inside it is its own tree.
    assert package_root(generated, tmp_path) == tmp_path / "gen"
