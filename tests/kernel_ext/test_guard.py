"""The kernel guard in a real kernel (nbclient + ipykernel), as a notebook user meets it.

Two kernels run the same cells, one with ``%load_ext tensorviews`` (warn mode) and one without;
every dev case runs in a fresh namespace (``%reset -f``) and must warn iff it is labelled bug,
with the same stdout in both kernels. The behaviour cells (exceptions, early returns,
generators, evaluation order) must print the same in both kernels too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.kernel_ext.notebook_runner import display_bundles, run_cells, stream_text

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "swap_cases_dev.jsonl"
CASES = [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]

# Each prints what it observed; run with and without the guard, the prints must be identical.
BEHAVIOUR = {
    "evaluation order and counts": (
        "import torch\nlog = []\n"
        "def at(n):\n    log.append(n)\n    return n\n"
        "def swap(x):\n    x[at(0)], x[at(1)] = x[at(2)], x[at(3)]\n    return x\n"
        "print(swap(torch.arange(5)).tolist(), log)\nlog.clear()\n"
        "print(swap(list(range(5))), log)\n"
    ),
    "exception in a right-hand item leaves the container untouched": (
        "def swap(x):\n    x[0], x[1] = x[1], x[99]\n"
        "for x in ([1, 2, 3], __import__('numpy').arange(3)):\n"
        "    try:\n        swap(x)\n    except IndexError as exc:\n"
        "        print(type(exc).__name__, list(x))\n"
    ),
    "exception in the second store keeps the first": (
        "import traceback\n"
        "def swap(x):\n    x[0], x[9] = x[1], x[0]\n"
        "for x in ([1, 2, 3], __import__('torch').arange(3)):\n"
        "    try:\n        swap(x)\n    except IndexError as exc:\n"
        "        frame = traceback.extract_tb(exc.__traceback__)[1]\n"
        "        print(type(exc).__name__, frame.lineno, frame.line, list(map(int, x)))\n"
    ),
    "early return and generator": (
        "import numpy as np\n"
        "def first_swap(x, pairs):\n"
        "    for i, j in pairs:\n"
        "        x[i], x[j] = x[j], x[i]\n"
        "        if i == 1:\n            return i\n"
        "    return None\n"
        "def walk(x):\n"
        "    for i in range(len(x) - 1):\n"
        "        x[i], x[i + 1] = x[i + 1], x[i]\n"
        "        yield x[i] if isinstance(x, list) else int(x[i])\n"
        "y = [5, 6, 7, 8]\nprint(first_swap(y, [(0, 2), (1, 3), (2, 3)]), y)\n"
        "print(list(walk([1, 2, 3, 4])), list(walk(np.arange(4))))\n"
        "g = walk([1, 2, 3])\nprint(next(g))\ng.close()\n"
    ),
    "top level statement of unknown type leaves no temporaries": (
        "import numpy as np\nfrom types import SimpleNamespace\n"
        "def make():\n    return np.arange(6).reshape(3, 2)\n"
        "z = make()\nz[0], z[1] = z[1], z[0].copy()\n"
        "print(z.tolist(), [k for k in globals() if k.startswith('__tv')])\n"
    ),
}


def _cells(with_guard: bool) -> list[str]:
    cells = ["%load_ext tensorviews" if with_guard else "pass"]
    for case in CASES:
        cells += ["%reset -f", case["code"]]
    for code in BEHAVIOUR.values():
        cells += ["%reset -f", code]
    return cells


def _case_cell(index: int) -> int:
    return 2 + 2 * index


def _behaviour_cell(index: int) -> int:
    return 2 + 2 * len(CASES) + 2 * index


@pytest.fixture(scope="module")
def runs() -> tuple[Any, Any]:
    return run_cells(_cells(True), timeout=300), run_cells(_cells(False), timeout=300)


def _warnings(cell: Any) -> list[str]:
    return [b["text/plain"] for b in display_bundles(cell)
            if b.get("text/plain", "").startswith("TV00")]


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["id"] for c in CASES])
def test_dev_case_warns_iff_bug_and_keeps_stdout(runs: tuple[Any, Any], index: int) -> None:
    guarded, plain = runs
    case = CASES[index]
    cell = guarded.cells[_case_cell(index)]
    warnings = _warnings(cell)
    assert bool(warnings) == (case["label"] == "bug"), warnings
    assert stream_text(cell) == stream_text(plain.cells[_case_cell(index)])
    assert "tensorviews" not in stream_text(cell, "stderr")
    for bundle in display_bundles(cell):
        assert "<script" not in bundle.get("text/html", "")


def test_bug_case_warning_names_the_line_and_fix(runs: tuple[Any, Any]) -> None:
    guarded, _ = runs
    index = next(i for i, c in enumerate(CASES) if c["id"] == "swap-045")
    (bundle,) = display_bundles(guarded.cells[_case_cell(index)])
    assert bundle["text/plain"].startswith("TV001 In [")
    assert ", line 4: swap of views" in bundle["text/plain"]
    assert "vals[0:3], vals[3:6] = vals[3:6], vals[0:3].copy()" in bundle["text/plain"]
    assert "<code>vals[0:3], vals[3:6] = vals[3:6], vals[0:3].copy()</code>" in bundle["text/html"]


def test_runtime_clobber_in_unannotated_function_is_reported_with_its_line(
    runs: tuple[Any, Any],
) -> None:
    guarded, _ = runs
    index = next(i for i, c in enumerate(CASES) if c["id"] == "swap-066")
    warnings = _warnings(guarded.cells[_case_cell(index)])
    # Two statements (kp and kp_vis rows) clobber; each is reported once, not per iteration.
    assert len(warnings) == 2
    assert ", line 13: swap of views happened at run time" in warnings[0]
    assert ", line 14: swap of views happened at run time" in warnings[1]
    assert "kp[fp[0], :].clone()" in warnings[0]


@pytest.mark.parametrize("index", range(len(BEHAVIOUR)), ids=list(BEHAVIOUR))
def test_guarded_code_behaves_exactly_as_before(runs: tuple[Any, Any], index: int) -> None:
    guarded, plain = runs
    cell = guarded.cells[_behaviour_cell(index)]
    expected = stream_text(plain.cells[_behaviour_cell(index)])
    assert expected.strip()
    assert stream_text(cell) == expected
    assert stream_text(cell, "stderr") == ""


MODES = [
    "%load_ext tensorviews",  # 0
    "import torch, numpy as np\nt = torch.arange(6).reshape(3, 2)\nL = [[0, 1], [2, 3], [4, 5]]\n"
    "a = np.arange(6).reshape(3, 2)",  # 1
    "%tensorviews guard",  # 2
    "%tensorviews guard fix",  # 3
    "t[0], t[1], t[2] = t[1], t[2], t[0]\nL[0], L[1], L[2] = L[1], L[2], L[0]\n"
    "print(t.tolist() == L, t.tolist())",  # 4
    "e = torch.arange(4)\ne[0], e[1] = e[1], e[0]\n"
    "a[:, 0], a[:, 1] = a[:, 1], a[:, 0]\nprint(e.tolist(), a.tolist())",  # 5
    "%tensorviews guard error",  # 6
    "print('side effect')\nt[0], t[1] = t[1], t[0]",  # 7
    "print('still running')",  # 8
    "%tensorviews guard off",  # 9
    "def f(x):\n    x[0], x[1] = x[1], x[0]\n    return x\nprint(f(torch.arange(3)).tolist())\n"
    "t[0], t[1] = t[1], t[0]",  # 10
    "%tensorviews guard warn",  # 11
    "%ls > /dev/null\n!true\nt[1], t[2] = t[2], t[1]",  # 12
    "x = (1,\n",  # 13
    "d = {'<b>': torch.zeros(2)}\ndef g(m, k):\n    for _ in range(1000):\n"
    "        m[k][0], m[k][1] = m[k][1], m[k][0]\ng(d, '<b>')",  # 14
    "m2 = np.arange(9.0).reshape(3, 3)\nm2[0, 1], m2[1, 0] = m2[1, 0], m2[0, 1]\n"
    "m2[0], m2[1] = m2[1], m2[0]",  # 15
    "%tensorviews guard sideways",  # 16
    "%unload_ext tensorviews",  # 17
    "g(d, '<b>')\nprint(f(torch.arange(3)).tolist())\nt[0], t[1] = t[1], t[0]",  # 18
]


@pytest.fixture(scope="module")
def modes() -> Any:
    return run_cells(MODES, allow_errors=True, timeout=180)


def test_mode_is_printed_and_unknown_mode_is_a_usage_error(modes: Any) -> None:
    assert stream_text(modes.cells[2]) == "tensorviews guard: warn\n"
    usage = stream_text(modes.cells[16], "stderr")  # IPython prints usage errors, no traceback
    assert usage.startswith("UsageError: unknown guard mode 'sideways'")


def test_fix_mode_swaps_like_a_list_and_announces_the_rewrite(modes: Any) -> None:
    assert stream_text(modes.cells[4]) == "True [[2, 3], [4, 5], [0, 1]]\n"
    (announced,) = [b["text/plain"] for b in display_bundles(modes.cells[4])]
    assert announced.startswith(
        # Only the item an earlier store overwrites needs the copy (docs/semantics.md, rotation).
        "tensorviews: rewrote line 1: t[0], t[1], t[2] = t[1], t[2], t[0].clone()  (TV001"
    )
    assert stream_text(modes.cells[5]) == "[1, 0, 2, 3] [[1, 0], [3, 2], [5, 4]]\n"
    lines = sorted(b["text/plain"].split(":")[1] for b in display_bundles(modes.cells[5]))
    assert lines == [" rewrote line 2", " rewrote line 3"]


def test_error_mode_does_not_run_the_cell_and_says_why(modes: Any) -> None:
    cell = modes.cells[7]
    assert stream_text(cell) == ""
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    assert error.ename == "SwapBlocked"
    assert error.traceback[0] == "tensorviews: In [8] was not run (guard mode 'error'):"
    assert error.traceback[1].startswith("  TV001 line 2: swap of views")
    assert not any("Traceback" in line or ".py" in line for line in error.traceback)
    assert stream_text(modes.cells[8]) == "still running\n"


def test_off_mode_checks_nothing(modes: Any) -> None:
    cell = modes.cells[10]
    assert display_bundles(cell) == []
    assert stream_text(cell) == "[1, 1, 2]\n"  # the bug happens, unreported


def test_magics_in_a_cell_do_not_hide_the_swap(modes: Any) -> None:
    (warning,) = _warnings(modes.cells[12])
    assert ", line 3: swap of views" in warning


def test_syntax_error_shows_only_python_error(modes: Any) -> None:
    cell = modes.cells[13]
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    assert error.ename == "SyntaxError"
    assert display_bundles(cell) == [] and stream_text(cell, "stderr") == ""


def test_runtime_report_once_and_escaped(modes: Any) -> None:
    (bundle,) = display_bundles(modes.cells[14])
    assert bundle["text/plain"].startswith("TV001 In [15], line 4: swap of views happened")
    assert "&lt;b&gt;" not in bundle["text/plain"]
    assert "<b>" not in bundle["text/html"].replace("<b>TV001</b>", "")


def test_numpy_element_swap_is_safe_rows_are_not(modes: Any) -> None:
    (warning,) = _warnings(modes.cells[15])
    assert ", line 3: swap of views" in warning


def test_unload_leaves_instrumented_functions_working(modes: Any) -> None:
    cell = modes.cells[18]
    assert stream_text(cell) == "[1, 1, 2]\n"
    assert display_bundles(cell) == []
    assert all(o.output_type != "error" for o in cell.outputs)


def test_terminal_ipython_warns_and_blocks_the_same_way() -> None:
    import subprocess
    import sys

    cells = [
        "%load_ext tensorviews",
        "import torch",
        "t = torch.arange(3)",
        "t[0], t[1] = t[1], t[0]",
        "%tensorviews guard error",
        "print('side'); t[0], t[1] = t[1], t[0]",
        "print(t.tolist())",
        "exit",
    ]
    ipython = Path(sys.executable).with_name("ipython")
    out = subprocess.run(
        [str(ipython), "--quick", "--no-banner", "--simple-prompt", "--colors=nocolor"],
        input="\n".join(cells) + "\n", capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    assert "TV001 In [4], line 1: swap of views" in out
    assert "tensorviews: In [6] was not run (guard mode 'error'):" in out
    assert "side" not in out and "Traceback" not in out
    assert "[1, 1, 2]" in out  # the warned cell ran as written, the blocked one did not
