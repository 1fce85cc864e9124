"""``python -m lsp_server check`` as a subprocess: .py and .ipynb, json and text, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
BUGGY = "import torch\nx = torch.zeros(3)\nx[0], x[1] = x[1], x[0]\n"
POSSIBLE = "def f(x):\n    x[0], x[1] = x[1], x[0]\n"


def check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lsp_server", "check", *map(str, args)],
        cwd=REPO,
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
        (["missing.py"], "missing.py: no such file or directory"),
        (["--format", "xml", "a.py"], "invalid choice"),
        ([], "required"),
    ],
)
def test_usage_errors_exit_two(args: list[str], fragment: str, tmp_path: Path) -> None:
    result = check(*[str(tmp_path / a) if a.endswith(".py") else a for a in args])
    assert result.returncode == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_invalid_notebook_exits_two(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text("{not json", encoding="utf-8")
    result = check(path)
    assert result.returncode == 2
    assert "invalid notebook JSON" in result.stderr and "Traceback" not in result.stderr


def test_syntax_error_file_still_reports(tmp_path: Path) -> None:
    path = tmp_path / "half.py"
    path.write_text(BUGGY + "y = (\n", encoding="utf-8")
    result = check(path, "--format", "json")
    assert result.returncode == 1
    assert [item["line"] for item in json.loads(result.stdout)] == [3]
