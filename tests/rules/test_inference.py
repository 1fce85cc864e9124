"""Types from local evidence decide severity: imports, constructors, annotations, cells."""

from __future__ import annotations

import pytest

from tensorviews.rules import copy_fixed_statement, find_swap_hazards, find_swap_hazards_in_cells

SWAP = "x[0], x[1] = x[1], x[0]\n"


@pytest.mark.parametrize(
    ("prelude", "expected"),
    [
        ("import torch\nx = torch.rand(3, 2)\n", "error"),
        ("import torch as tt\nx = tt.tensor([[1, 2], [3, 4]])\n", "error"),
        ("from torch import zeros as z\nx = z(3)\n", "error"),
        ("import numpy as np\nx = np.zeros((3, 4))\n", "error"),
        ("import numpy as np\nx = np.arange(12).reshape(4, 3)\n", "error"),
        ("import numpy\nx = numpy.array([[1, 2], [3, 4]])\n", "error"),
        ("from numpy import *\nx = ones((2, 2))\n", "error"),
        ("import numpy as np\nx = np.zeros(3)\n", None),  # 1-D numpy elements are scalars
        ("import numpy as np\nx = np.arange(4)\n", None),
        ("import numpy as np\nx = np.array([1, 2, 3])\n", None),
        ("import numpy as np\nx = np.load('f.npy')\n", "information"),  # ndim unknown
        ("import numpy as np\nx = np.load('f.npy')\nn, d = x.shape\n", "error"),
        ("x = [1, 2, 3]\n", None),
        ("x = list(range(3))\n", None),
        ("x = [i for i in range(3)]\n", None),
        ("x = dict()\n", None),
        ("x = f()\n", "information"),
        ("import torch\nx: torch.Tensor = f()\n", "error"),
        ("from sympy import *\nx = Matrix([[1, 2], [3, 4]])\n", None),
    ],
)
def test_module_level_evidence(prelude: str, expected: str | None) -> None:
    findings = find_swap_hazards(prelude + SWAP)
    assert [f.severity for f in findings] == ([expected] if expected else [])
    if expected == "information":
        assert "possible" in findings[0].message


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("def f(x: torch.Tensor):", "error"),
        ("def f(x: 'torch.Tensor'):", "error"),
        ("def f(x: torch.Tensor | None):", "error"),
        ("def f(x: Optional[torch.Tensor]):", "error"),
        ("def f(x: np.ndarray):", "information"),  # numpy of unknown ndim: maybe scalars
        ("def f(x: list[int]):", None),
        ("def f(x: List[int]):", None),
        ("def f(x: list):", None),
        ("def f(x):", "information"),
    ],
)
def test_parameter_annotations(signature: str, expected: str | None) -> None:
    source = (
        "from typing import List, Optional\nimport numpy as np\nimport torch\n"
        f"{signature}\n    {SWAP}"
    )
    findings = find_swap_hazards(source)
    assert [f.severity for f in findings] == ([expected] if expected else [])


def test_nested_blocks_methods_and_attributes() -> None:
    source = (
        "import torch\n"
        "class Buffer:\n"
        "    def __init__(self):\n"
        "        self.buf = torch.zeros(4, 2)\n"
        "    def flip(self, i, j):\n"
        "        for _ in range(2):\n"
        "            if i != j:\n"
        "                self.buf[i], self.buf[j] = self.buf[j], self.buf[i]\n"
    )
    (finding,) = find_swap_hazards(source)
    assert (finding.severity, finding.range.line) == ("error", 8)
    assert finding.fixes[0].fixed_statement.endswith("self.buf[i].clone()")


def test_chained_subscripts() -> None:
    source = "import torch\nm = torch.zeros(2, 2)\nm[0][1], m[1][0] = m[1][0], m[0][1]\n"
    (finding,) = find_swap_hazards(source)
    assert finding.severity == "error"


def test_rebinding_with_copies_is_followed() -> None:
    source = (
        "import numpy as np\n"
        "def f(u, v):\n"
        "    u, v = np.broadcast_arrays(u, v)\n"
        "    u, v = u.astype(float, copy=True), v.astype(float, copy=True)\n"
        "    flip = v < u\n"
        "    u[flip], v[flip] = v[flip], u[flip]\n"
    )
    assert find_swap_hazards(source) == []


def test_cells_pass_types_forward() -> None:
    cells = ["import torch\n", "x = torch.zeros(3)\n", SWAP, "x = [1, 2]\n", SWAP]
    per_cell = find_swap_hazards_in_cells(cells)
    assert [[f.severity for f in findings] for findings in per_cell] == [[], [], ["error"], [], []]
    assert per_cell[2][0].range.line == 1


def test_known_types_override_inference() -> None:
    assert [f.severity for f in find_swap_hazards(SWAP, known_types={"x": "torch"})] == ["error"]
    assert find_swap_hazards(SWAP, known_types={"x": "list"}) == []
    numpy_1d = find_swap_hazards(SWAP, known_types={"x": "numpy"}, known_ndims={"x": 1})
    assert numpy_1d == []
    numpy_2d = find_swap_hazards(SWAP, known_types={"x": "numpy"}, known_ndims={"x": 2})
    assert [f.severity for f in numpy_2d] == ["error"]


def test_enabled_selects_rules() -> None:
    source = "import torch\nx = torch.zeros(3, 2)\nt = x[0]\nx[0] = x[1]\nx[1] = t\n" + SWAP
    assert {f.code for f in find_swap_hazards(source)} == {"TV001", "TV002"}
    assert {f.code for f in find_swap_hazards(source, enabled={"TV002"})} == {"TV002"}
    assert find_swap_hazards(source, enabled=()) == []


def test_unknown_type_gets_no_copy_edit_only_words() -> None:
    # Neither .clone() nor .copy() is right for every value (a str has neither), so an item
    # of unknown type gets no edit; the message says what to copy for each library.
    for source in ("def f(x):\n    " + SWAP, "import torch\ndef f(x):\n    " + SWAP):
        (finding,) = find_swap_hazards(source)
        assert finding.severity == "information"
        assert finding.fixes == ()
        assert "copy `x[0]` first: .clone() if it is a tensor, .copy() if it is a numpy array" in (
            finding.message
        )


def test_plain_values_never_get_a_copy_method() -> None:
    # The torch/_inductor shape: a list of str in a module that imports torch.
    source = (
        "import torch\n"
        "def f(constant_args):\n"
        "    constant_args[1], constant_args[2] = constant_args[2], constant_args[1]\n"
    )
    (finding,) = find_swap_hazards(source)
    assert finding.fixes == ()
    assert ".clone()\n" not in finding.explanation and "clone()`" not in finding.explanation


def test_array_of_unknown_library_offers_both_copies() -> None:
    source = (
        "import torch\nimport numpy as np\n"
        "def f(flag):\n"
        "    x = torch.zeros(3, 2) if flag else np.zeros((3, 2))\n"
        "    x[0], x[1] = x[1], x[0]\n"
    )
    (finding,) = find_swap_hazards(source)
    assert [fix.title for fix in finding.fixes][:2] == [
        "Add .clone() to x[0]",
        "Add .copy() to x[0]",
    ]


def test_temporary_rebound_before_read_is_fine() -> None:
    source = (
        "import torch\nx = torch.zeros(3, 2)\nt = x[0]\nt = x[0].clone()\nx[0] = x[1]\nx[1] = t\n"
    )
    assert find_swap_hazards(source) == []


def test_temporary_finding_points_at_the_stale_read() -> None:
    source = "import numpy as np\nx = np.zeros((3, 2))\nt = x[0]\nx[0] = x[1]\nx[1] = t\n"
    (finding,) = find_swap_hazards(source)
    assert (finding.code, finding.range.line) == ("TV002", 5)
    assert finding.fixes[0].fixed_statement == "t = x[0].copy()"
    (clobber,) = finding.clobbers
    assert (clobber.read, clobber.written_by, clobber.written_range.line) == ("t", "x[0]", 4)


def test_copy_fixed_statement_for_a_library_learned_at_run_time() -> None:
    source = "def f(kp, fp):\n    kp[fp[0], :], kp[fp[1], :] = kp[fp[1], :], kp[fp[0], :]\n"
    (finding,) = find_swap_hazards(source)
    assert finding.fixes == ()
    statement = source.splitlines()[1].strip()
    assert copy_fixed_statement(statement, finding, "torch") == (
        "kp[fp[0], :], kp[fp[1], :] = kp[fp[1], :], kp[fp[0], :].clone()"
    )
    assert copy_fixed_statement(statement, finding, "numpy") == (
        "kp[fp[0], :], kp[fp[1], :] = kp[fp[1], :], kp[fp[0], :].copy()"
    )
    assert copy_fixed_statement(statement, finding, "list") is None
    assert copy_fixed_statement("something else entirely", finding, "torch") is None
