"""``python -m lsp_server check`` as a subprocess: .py and .ipynb, text, json and SARIF, rule
selection, exit codes, bad files that do not stop the run, symlink loops, size limits, and the
pre-commit hook run the way pre-commit runs it."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = Path(__file__).with_name("sarif_required.schema.json")
BUGGY = "import torch\nx = torch.zeros(3)\nx[0], x[1] = x[1], x[0]\n"
POSSIBLE = "def f(x):\n    x[0], x[1] = x[1], x[0]\n"


def check(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lsp_server", "check", *map(str, args)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_notebook(path: Path, cells: list[str]) -> None:
    # nbformat has no type hints.
    notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Swaps")] + [  # type: ignore[no-untyped-call]
        nbformat.v4.new_code_cell(source)  # type: ignore[no-untyped-call]
        for source in cells
    ]
    nbformat.write(notebook, str(path))  # type: ignore[no-untyped-call]


def test_python_file_json(tmp_path: Path) -> None:
    path = tmp_path / "swap.py"
    path.write_text(BUGGY, encoding="utf-8")
    result = check(path, "--format", "json")
    assert result.returncode == 1, result.stderr
    (item,) = json.loads(result.stdout)
    assert item["path"] == str(path)
    assert (item["cell"], item["line"], item["column"]) == (None, 3, 1)
    assert (item["end_line"], item["end_column"]) == (3, len("x[0], x[1] = x[1], x[0]") + 1)
    assert (item["code"], item["severity"]) == ("TV001", "error")
    assert "x[0].clone()" in item["message"]


def test_python_file_text(tmp_path: Path) -> None:
    path = tmp_path / "swap.py"
    path.write_text(BUGGY, encoding="utf-8")
    result = check(path)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}:3:1: TV001 swap of views")


def test_notebook_cells_magics_and_types_across_cells(tmp_path: Path) -> None:
    path = tmp_path / "swaps.ipynb"
    write_notebook(
        path,
        [
            "%matplotlib inline\nimport torch\n!pip list",
            "x = torch.zeros(3)",
            "%%time\ny = 1\nx[0], x[1] = x[1], x[0]",
            "%%bash\necho x[0], x[1] = x[1], x[0]",
        ],
    )
    result = check(path, "--format", "json")
    assert result.returncode == 1, result.stderr
    (item,) = json.loads(result.stdout)
    assert (item["cell"], item["line"], item["column"]) == (3, 3, 1)
    text = check(path)
    assert text.stdout.startswith(f"{path}[cell 3]:3:1: TV001 ")


def test_directory_recursion_and_information_only_exit_zero(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "maybe.py").write_text(POSSIBLE, encoding="utf-8")
    (tmp_path / "pkg" / "notes.txt").write_text(BUGGY, encoding="utf-8")
    result = check(tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    (item,) = json.loads(result.stdout)
    assert item["severity"] == "information" and "possible" in item["message"]


def test_clean_file_exits_zero(tmp_path: Path) -> None:
    path = tmp_path / "clean.py"
    path.write_text("x = [1, 2]\nx[0], x[1] = x[1], x[0]\n", encoding="utf-8")
    result = check(path, "--format", "json")
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--format", "xml", "a.py"], "invalid choice"),
        ([], "required"),
        (["--select", "TV9", "a.py"], "--select: unknown rule code 'TV9' (known: TV001, TV002)"),
        (["--ignore", "TV001,E501", "a.py"], "--ignore: unknown rule code 'E501'"),
        (["--max-file-size", "lots", "a.py"], "--max-file-size: invalid size 'lots'"),
    ],
)
def test_usage_errors_exit_two(args: list[str], fragment: str, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BUGGY, encoding="utf-8")
    result = check(*[str(tmp_path / a) if a.endswith(".py") else a for a in args])
    assert result.returncode == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_syntax_error_file_still_reports(tmp_path: Path) -> None:
    path = tmp_path / "half.py"
    path.write_text(BUGGY + "y = (\n", encoding="utf-8")
    result = check(path, "--format", "json")
    assert result.returncode == 1
    assert [item["line"] for item in json.loads(result.stdout)] == [3]


@pytest.mark.parametrize(
    ("comment", "reported"),
    [("", True), ("  # noqa", False), ("  # noqa: TV001", False), ("  # noqa: TV002", True)],
)
def test_noqa_silences_the_line(comment: str, reported: bool, tmp_path: Path) -> None:
    path = tmp_path / "swap.py"
    path.write_text(BUGGY.rstrip("\n") + comment + "\n", encoding="utf-8")
    notebook = tmp_path / "swap.ipynb"
    write_notebook(notebook, [BUGGY.rstrip("\n") + comment])
    result = check(path, notebook, "--format", "json")
    assert [item["code"] for item in json.loads(result.stdout)] == ["TV001"] * 2 * reported
    assert result.returncode == (1 if reported else 0)


TEMPORARY = (
    "import numpy as np\nm = np.arange(6).reshape(3, 2)\ntmp = m[0]\nm[0] = m[2]\nm[2] = tmp\n"
)


@pytest.mark.parametrize(
    ("args", "codes"),
    [
        ([], ["TV001", "TV002"]),
        (["--select", "TV001"], ["TV001"]),
        (["--select", "TV002", "--select", "TV001"], ["TV001", "TV002"]),
        (["--select", "TV"], ["TV001", "TV002"]),
        (["--select", "ALL", "--ignore", "TV001"], ["TV002"]),
        (["--ignore", "TV001,TV002"], []),
        (["--select", "TV001", "--ignore", "TV001"], []),
    ],
)
def test_select_and_ignore(args: list[str], codes: list[str], tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / "two.py").write_text(TEMPORARY, encoding="utf-8")
    result = check(tmp_path, "--format", "json", *args)
    assert sorted(item["code"] for item in json.loads(result.stdout)) == codes
    assert result.returncode == (1 if codes else 0), result.stderr


def test_sarif_is_valid_and_complete(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "swap.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / "src" / "maybe.py").write_text(POSSIBLE, encoding="utf-8")
    (tmp_path / "src" / "temp.py").write_text(TEMPORARY, encoding="utf-8")
    (tmp_path / "src" / "broken.ipynb").write_text("{", encoding="utf-8")
    write_notebook(
        tmp_path / "src" / "nb.ipynb", ["import torch\nx = torch.zeros(3)", "y = 1\n" + BUGGY]
    )
    result = check("src", "--format", "sarif", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["TV001", "TV002"]
    by_file = {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]): r
        for r in run["results"]
    }
    assert set(by_file) == {
        ("src/swap.py", "TV001"),
        ("src/maybe.py", "TV001"),
        ("src/temp.py", "TV002"),
        ("src/nb.ipynb", "TV001"),
    }
    swap = by_file["src/swap.py", "TV001"]
    assert rules[swap["ruleIndex"]]["id"] == "TV001" and swap["level"] == "error"
    assert swap["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 24,
    }
    (related,) = swap["relatedLocations"]
    assert related["physicalLocation"]["region"]["startLine"] == 3
    assert "overwrites" in related["message"]["text"]
    assert by_file["src/maybe.py", "TV001"]["level"] == "note"
    temp = by_file["src/temp.py", "TV002"]
    assert any(
        place["physicalLocation"]["region"]["startLine"] == 4  # the store m[0] = m[2]
        and "overwrites" in place["message"]["text"]
        for place in temp["relatedLocations"]
    )
    cell = by_file["src/nb.ipynb", "TV001"]
    assert cell["properties"] == {"cell": 2}
    assert cell["message"]["text"].startswith("[cell 2] swap of views")
    assert cell["locations"][0]["physicalLocation"]["region"]["startLine"] == 4  # in the cell
    assert cell["locations"][0]["logicalLocations"] == [{"name": "cell 2", "kind": "module"}]
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["message"]["text"].startswith("src/broken.ipynb: invalid notebook JSON")


def _latin1(path: Path) -> None:
    path.write_bytes(b"name = 'caf\xe9'\n")


def _not_json(path: Path) -> None:
    path.write_text("{not json", encoding="utf-8")


def _number_source(path: Path) -> None:
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": 42}]}), encoding="utf-8")


def _nested_json(path: Path) -> None:
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")


def _directory(path: Path) -> None:
    path.mkdir()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("latin.py", _latin1, "cannot read: not valid utf-8 (byte 0xe9 on line 1)"),
        ("broken.ipynb", _not_json, "invalid notebook JSON"),
        ("number.ipynb", _number_source, "invalid notebook: cell 0 has no text source"),
        ("nested.ipynb", _nested_json, "invalid notebook"),
        ("missing.py", lambda path: None, "cannot read: No such file or directory"),
        ("fifo.py", _fifo, "not a regular file"),
    ],
)
def test_a_bad_file_is_reported_and_the_run_goes_on(
    name: str, make: object, message: str, tmp_path: Path
) -> None:
    assert callable(make)
    bad = tmp_path / name
    make(bad)
    good = tmp_path / "good.py"
    good.write_text(BUGGY, encoding="utf-8")
    text = check(bad, good)
    assert text.returncode == 1
    assert text.stderr == f"error: {bad}: {text.stderr.split(': ', 2)[2]}"
    assert message in text.stderr and len(text.stderr.splitlines()) == 1
    assert text.stdout.startswith(f"{good}:3:1: TV001")

    result = check(bad, good, "--format", "json")
    assert result.returncode == 1 and result.stderr == ""
    unreadable, finding = json.loads(result.stdout)
    assert (unreadable["path"], unreadable["code"], unreadable["severity"]) == (
        str(bad), "TV000", "error",
    )
    assert message in unreadable["message"]
    assert (finding["path"], finding["code"]) == (str(good), "TV001")


def test_a_file_with_a_coding_comment_is_read_in_its_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n" + BUGGY.encode())
    result = check(path, "--format", "json")
    assert [item["line"] for item in json.loads(result.stdout)] == [5], result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_permission_denied_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "secret.py"
    bad.write_text(BUGGY, encoding="utf-8")
    bad.chmod(0)
    good = tmp_path / "good.py"
    good.write_text(BUGGY, encoding="utf-8")
    result = check(tmp_path, "--format", "json")
    assert result.returncode == 1
    codes = {item["path"]: item["code"] for item in json.loads(result.stdout)}
    assert codes == {str(bad): "TV000", str(good): "TV001"}


def test_a_directory_named_like_a_file_is_searched(tmp_path: Path) -> None:
    folder = tmp_path / "pkg.py"
    folder.mkdir()
    (folder / "inner.py").write_text(BUGGY, encoding="utf-8")
    result = check(folder, "--format", "json")
    assert [item["path"] for item in json.loads(result.stdout)] == [str(folder / "inner.py")]


def test_symlink_loops_report_each_real_file_once(tmp_path: Path) -> None:
    top = tmp_path / "project"
    (top / "pkg").mkdir(parents=True)
    (top / "pkg" / "swap.py").write_text(BUGGY, encoding="utf-8")
    (top / "pkg" / "up").symlink_to("..")  # a loop back to the top
    (top / "pkg" / "again").symlink_to(".")  # a loop onto itself
    (top / "link").symlink_to("pkg")  # a second name for a folder
    (top / "alias.py").symlink_to("pkg/swap.py")  # a second name for the file
    (top / "self.py").symlink_to("self.py")  # two self-links and a pair of links to each other
    (top / "selfdir").symlink_to("selfdir")
    (top / "ping.py").symlink_to("pong.py")
    (top / "pong.py").symlink_to("ping.py")
    result = check(top, top / "pkg", top / "alias.py", "--format", "json")
    items = json.loads(result.stdout)
    findings = [item for item in items if item["code"] == "TV001"]
    assert len(findings) == 1, items
    problems = {
        Path(item["path"]).name: item["message"] for item in items if item["code"] == "TV000"
    }
    assert set(problems) == {"self.py", "ping.py", "pong.py"}
    assert all("Too many levels of symbolic links" in m for m in problems.values())


def test_size_limit_is_reported_and_settable(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_text(BUGGY + "x = 1\n" * 400_000, encoding="utf-8")  # 2.3 MiB, above the default
    small = tmp_path / "small.py"
    small.write_text(BUGGY, encoding="utf-8")
    result = check(tmp_path, "--format", "json")
    items = {Path(item["path"]).name: item for item in json.loads(result.stdout)}
    assert items["big.py"]["code"] == "TV000"
    assert items["big.py"]["message"] == (
        "not checked: 2.3 MiB is above the 2.0 MiB limit (--max-file-size)"
    )
    assert items["small.py"]["code"] == "TV001"
    raised = check(big, "--max-file-size", "3M", "--format", "json")
    assert [item["code"] for item in json.loads(raised.stdout)] == ["TV001"]
    unlimited = check(big, "--max-file-size", "0", "--format", "json")
    assert [item["code"] for item in json.loads(unlimited.stdout)] == ["TV001"]
    tiny = check(small, "--max-file-size", "10")
    assert tiny.returncode == 1 and "above the 10 bytes limit" in tiny.stderr


def test_notebook_limit_counts_code_not_outputs(tmp_path: Path) -> None:
    path = tmp_path / "outputs.ipynb"
    write_notebook(path, [BUGGY])
    notebook = json.loads(path.read_text(encoding="utf-8"))
    notebook["cells"][1]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": "y" * 3_000_000}
    ]
    path.write_text(json.dumps(notebook), encoding="utf-8")
    result = check(path, "--format", "json")
    assert [item["code"] for item in json.loads(result.stdout)] == ["TV001"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_pre_commit_hook_runs_on_the_staged_files(tmp_path: Path) -> None:
    """Run the hook as pre-commit does: its entry, split like a shell, with the staged files
    that match `types_or` appended (pre-commit's `identify` tags .py as python, .ipynb as
    jupyter); the hook's Python is the one that has the package installed."""
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "tensorviews-check" and hook["language"] == "python"
    assert sorted(hook["types_or"]) == ["jupyter", "python"] and "types" not in hook
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "ok.py").write_text("x = [1, 2]\nx[0], x[1] = x[1], x[0]\n", encoding="utf-8")
    (repo / "README.md").write_text(BUGGY, encoding="utf-8")
    write_notebook(repo / "nb.ipynb", [BUGGY])
    _git(repo, "add", ".")
    staged = subprocess.run(
        ["git", "diff", "--cached", "--name-only"], cwd=repo, capture_output=True, text=True
    ).stdout.split()
    files = [name for name in staged if name.endswith((".py", ".ipynb"))]
    command = shlex.split(hook["entry"])
    assert command[:1] == ["python"]
    run = subprocess.run(
        [sys.executable, *command[1:], *files],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith("nb.ipynb[cell 1]:3:1: TV001")
    (repo / "nb.ipynb").unlink()
    clean = subprocess.run(
        [sys.executable, *command[1:], "ok.py"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (clean.returncode, clean.stdout) == (0, "")
