"""Guard modes as users meet them, in a real kernel: a leading mode line applies to its own
cell, each switch says what is active, run-time swaps are fixed (fix) or stopped (error)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kernel_ext.notebook_runner import display_bundles, run_cells, stream_text

CELLS = [
    "%load_ext tensorviews",  # 0
    "import torch, numpy as np\n"
    "def f(x):\n    x[0], x[1] = x[1], x[0]\n    return x",  # 1
    "%tensorviews guard fix\nt = torch.arange(6).reshape(3, 2)\nt[0], t[1] = t[1], t[0]\n"
    "print(t.tolist(), f(torch.arange(3)).tolist())",  # 2
    "%tensorviews guard error\nprint('side effect')\nt[0], t[1] = t[1], t[0]",  # 3
    "%tensorviews guard warn\ne = torch.arange(3)\ntry:\n    f(e)\nexcept Exception as exc:\n"
    "    print(type(exc).__name__)",  # 4
    "%tensorviews guard error\nu = torch.arange(3)\nf(u)",  # 5
    "print(u.tolist())",  # 6
    "%tensorviews guard warn\nimport numpy as np\n"
    "def g(x):\n    x[0], x[1] = x[1], x[0]\n"
    "a = np.arange(6).reshape(3, 2)\na[0], a[1] = a[1], a[0]\ng(torch.zeros(3, 2))",  # 7
]


@pytest.fixture(scope="module")
def nb() -> Any:
    return run_cells(CELLS, allow_errors=True, timeout=180)


def test_leading_fix_line_applies_to_its_cell_and_says_so(nb: Any) -> None:
    out = stream_text(nb.cells[2]).splitlines()
    assert out[0] == ("tensorviews guard: fix (swaps of views are corrected before they run, "
                      "and at run time)")
    assert out[1] == "[[2, 3], [0, 1], [4, 5]] [1, 0, 2]"  # both swaps correct
    texts = [b["text/plain"] for b in display_bundles(nb.cells[2])]
    assert any(t.startswith("tensorviews: rewrote line 3:") for t in texts)
    assert any("the guard stored a copy of it" in t and ".clone()" in t for t in texts)


def test_leading_error_line_blocks_its_cell(nb: Any) -> None:
    cell = nb.cells[3]
    assert "side effect" not in stream_text(cell)
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    assert error.ename == "SwapBlocked"


def test_error_mode_stops_a_run_time_swap_before_the_data_is_corrupted(nb: Any) -> None:
    (error,) = [o for o in nb.cells[5].outputs if o.output_type == "error"]
    assert error.ename == "SwapStopped"
    assert error.traceback[0].startswith("TV001 In [2], line 3: swap of views happened at run")
    assert stream_text(nb.cells[6]) == "[0, 1, 2]\n"  # nothing was stored


def test_run_time_fix_names_the_copy_method_of_the_values_library(nb: Any) -> None:
    texts = [b["text/plain"] for b in display_bundles(nb.cells[7])]
    (numpy_warning,) = [t for t in texts if ", line 6: swap of views" in t]
    assert "a[1], a[0].copy()" in numpy_warning
    (torch_report,) = [t for t in texts if "happened at run time" in t]
    assert "x[0].clone()" in torch_report and ".copy()" not in torch_report
