"""Every row of docs/semantics.md (outcome table and view table) as source -> expected findings.

Each row is also run with real torch/numpy: a row labelled bug must really corrupt the values
(differ from the copy-first meaning), a safe row must really swap. Every fix of every finding
is applied, re-checked (the finding is gone) and run (the values now are what the code means).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tensorviews.rules import apply_text_edits, find_swap_hazards

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

T = "import torch\n"
N = "import numpy as np\n"


@dataclass(frozen=True)
class Row:
    name: str
    source: str
    expected: tuple[tuple[str, int, str], ...]  # (code, line, severity)
    corrupts: bool

    def __str__(self) -> str:
        return self.name


def bug(name: str, source: str, line: int, code: str = "TV001") -> Row:
    return Row(name, source, ((code, line, "error"),), True)


def safe(name: str, source: str) -> Row:
    return Row(name, source, (), False)


ROWS = [
    # --- outcome table ---
    bug(
        "torch seed",
        T + "a = torch.arange(3.)\nb = torch.arange(3.) + 10\na[0], b[0] = b[0], a[0]\n",
        4,
    ),
    bug("torch 1-D elements", T + "x = torch.arange(4)\nx[0], x[1] = x[1], x[0]\n", 3),
    bug(
        "torch 2-D elements",
        T + "m = torch.arange(4).reshape(2, 2)\nm[0, 1], m[1, 0] = m[1, 0], m[0, 1]\n",
        3,
    ),
    safe(
        "numpy seed (scalars)",
        N + "a = np.arange(3.)\nb = np.arange(3.) + 10\na[0], b[0] = b[0], a[0]\n",
    ),
    safe("numpy 1-D elements", N + "x = np.arange(4)\nx[0], x[1] = x[1], x[0]\n"),
    safe(
        "numpy 2-D elements",
        N + "m = np.arange(4).reshape(2, 2)\nm[0, 1], m[1, 0] = m[1, 0], m[0, 1]\n",
    ),
    bug("numpy rows", N + "x = np.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0]\n", 3),
    bug(
        "numpy columns",
        N + "x = np.arange(6).reshape(2, 3)\nx[:, 0], x[:, 1] = x[:, 1], x[:, 0]\n",
        3,
    ),
    bug("numpy slices", N + "x = np.arange(9)\nx[0:3], x[3:6] = x[3:6], x[0:3]\n", 3),
    bug("torch rows", T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0]\n", 3),
    bug(
        "torch columns",
        T + "x = torch.arange(6).reshape(2, 3)\nx[:, 0], x[:, 1] = x[:, 1], x[:, 0]\n",
        3,
    ),
    bug("torch slices", T + "x = torch.arange(9)\nx[0:3], x[3:6] = x[3:6], x[0:3]\n", 3),
    bug(
        "torch rotation",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1], x[2] = x[1], x[2], x[0]\n",
        3,
    ),
    bug(
        "numpy rotation",
        N + "x = np.arange(6).reshape(3, 2)\nx[0], x[1], x[2] = x[1], x[2], x[0]\n",
        3,
    ),
    safe(
        "copy on second item",
        N + "x = np.arange(6).reshape(2, 3)\nx[:, 0], x[:, 1] = x[:, 1], x[:, 0].copy()\n",
    ),
    bug(
        "copy on first item only",
        N + "x = np.arange(6).reshape(2, 3)\nx[:, 0], x[:, 1] = x[:, 1].copy(), x[:, 0]\n",
        3,
    ),
    safe("advanced rows", N + "x = np.arange(6).reshape(3, 2)\nx[[0, 1]] = x[[1, 0]]\n"),
    safe(
        "advanced columns", T + "x = torch.arange(6).reshape(2, 3)\nx[:, [0, 1]] = x[:, [1, 0]]\n"
    ),
    safe("torch item", T + "t = torch.arange(4)\nt[0], t[1] = t[1].item(), t[0].item()\n"),
    bug("torch unary plus", T + "t = torch.arange(4)\nt[0], t[1] = t[1], +t[0]\n", 3),
    safe("torch times one", T + "t = torch.arange(4)\nt[0], t[1] = t[1], t[0] * 1\n"),
    bug(
        "torch temporary",
        T + "x = torch.arange(6).reshape(3, 2)\ntmp = x[0]\nx[0] = x[1]\nx[1] = tmp\n",
        5,
        "TV002",
    ),
    bug(
        "numpy temporary row",
        N + "x = np.arange(6).reshape(3, 2)\ntmp = x[0]\nx[0] = x[1]\nx[1] = tmp\n",
        5,
        "TV002",
    ),
    safe("numpy temporary element", N + "x = np.arange(6)\ntmp = x[0]\nx[0] = x[1]\nx[1] = tmp\n"),
    safe("list seed", "a = [0, 1]\nb = [2, 3]\na[0], b[0] = b[0], a[0]\n"),
    safe("list rotation", "x = [[0], [1], [2]]\nx[0], x[1], x[2] = x[1], x[2], x[0]\n"),
    safe("list slices", "x = list(range(9))\nx[0:3], x[3:6] = x[3:6], x[0:3]\n"),
    safe("list temporary", "x = [[0], [1]]\ntmp = x[0]\nx[0] = x[1]\nx[1] = tmp\n"),
    safe(
        "disjoint regions",
        T + "a = torch.arange(3.)\nb = torch.arange(3.) + 10\na[0], b[0] = b[1], a[1]\n",
    ),
    Row(
        "same index at run time (harmless, still wrong)",
        T + "x = torch.arange(4)\ni = j = 1\nx[i], x[j] = x[j], x[i]\n",
        (("TV001", 4, "error"),),
        False,
    ),
    # --- view table ---
    bug(
        "numpy x[i, ...] 0-d view",
        N + "x = np.arange(4)\nx[0, ...], x[1, ...] = x[1, ...], x[0, ...]\n",
        3,
    ),
    bug(
        "numpy x[..., k]",
        N + "x = np.arange(6).reshape(2, 3)\nx[..., 0], x[..., 2] = x[..., 2], x[..., 0]\n",
        3,
    ),
    bug(
        "torch x[i, ...]",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0, ...], x[1, ...] = x[1, ...], x[0, ...]\n",
        3,
    ),
    safe(
        "torch tensor index",
        T
        + "x = torch.arange(6).reshape(3, 2)\ni0 = torch.tensor([0])\ni1 = torch.tensor([1])\n"
        + "x[i0], x[i1] = x[i1], x[i0]\n",
    ),
    safe(
        "numpy mask index",
        N + "x = np.arange(6)\nlow = x < 2\nhigh = x > 3\nx[low], x[high] = x[high], x[low]\n",
    ),
    safe(
        "numpy clone by np.array",
        N + "x = np.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], np.array(x[0])\n",
    ),
    safe("torch tolist", T + "t = torch.arange(4)\nt[0], t[1] = t[1].tolist(), t[0].tolist()\n"),
    safe("torch clone", T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0].clone()\n"),
    bug(
        "torch detach",
        T + "x = torch.arange(6.).reshape(3, 2)\nx[0], x[1] = x[1], x[0].detach()\n",
        3,
    ),
    bug(
        "torch view", T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0].view(2)\n", 3
    ),
    bug(
        "torch reshape",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0].reshape(2)\n",
        3,
    ),
    bug(
        "torch contiguous",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0].contiguous()\n",
        3,
    ),
    bug(
        "torch to same device",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0].to('cpu')\n",
        3,
    ),
    bug("torch .T", T + "x = torch.arange(8).reshape(2, 2, 2)\nx[0], x[1] = x[1], x[0].T\n", 3),
    bug("torch .t()", T + "x = torch.arange(8).reshape(2, 2, 2)\nx[0], x[1] = x[1], x[0].t()\n", 3),
    bug(
        "torch transpose",
        T + "x = torch.arange(8).reshape(2, 2, 2)\nx[0], x[1] = x[1], x[0].transpose(0, 1)\n",
        3,
    ),
    bug(
        "torch permute",
        T + "x = torch.arange(8).reshape(2, 2, 2)\nx[0], x[1] = x[1], x[0].permute(1, 0)\n",
        3,
    ),
    bug(
        "torch squeeze/unsqueeze",
        T
        + "x = torch.arange(6).reshape(2, 1, 3)\nx[0], x[1] = x[1], x[0].squeeze(0).unsqueeze(0)\n",
        3,
    ),
    bug(
        "torch narrow",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0].narrow(0, 0, 2)\n",
        3,
    ),
    bug(
        "torch select",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0:1].select(0, 0)\n",
        3,
    ),
    bug(
        "torch expand",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0, :1].expand(2)\n",
        3,
    ),
    bug(
        "torch diagonal",
        T + "x = torch.arange(8).reshape(2, 2, 2)\nx[0, 0], x[1, 0] = x[1, 0], x[0].diagonal()\n",
        3,
    ),
    bug(
        "torch unbind item",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x.unbind(0)[0]\n",
        3,
    ),
    bug(
        "torch split item",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x.split(1)[0][0]\n",
        3,
    ),
    bug(
        "torch chunk item",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x.chunk(3)[0][0]\n",
        3,
    ),
    bug(
        "torch real",
        T
        + "z = torch.complex(torch.arange(4.), torch.ones(4)).reshape(2, 2)\n"
        + "z[0], z[1] = z[1], z[0].real\n",
        3,
    ),
    bug(
        "torch numpy()",
        T + "x = torch.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], torch.as_tensor(x[0].numpy())\n",
        3,
    ),
    bug(
        "torch.from_numpy",
        N + T + "x = np.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], torch.from_numpy(x[0])\n",
        4,
    ),
    bug("numpy .T", N + "x = np.arange(8).reshape(2, 2, 2)\nx[0], x[1] = x[1], x[0].T\n", 3),
    bug(
        "numpy reshape",
        N + "x = np.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0].reshape(2)\n",
        3,
    ),
    bug("numpy ravel", N + "x = np.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], x[0].ravel()\n", 3),
    bug(
        "np.asarray", N + "x = np.arange(6).reshape(3, 2)\nx[0], x[1] = x[1], np.asarray(x[0])\n", 3
    ),
    bug(
        "numpy object rows",
        N + "x = np.array([[1, 2], [3, 4]], dtype=object)\nx[0], x[1] = x[1], x[0]\n",
        3,
    ),
    bug("numpy matrix rows", N + "x = np.matrix([[1, 2], [3, 4]])\nx[0], x[1] = x[1], x[0]\n", 3),
    # --- precision on real code (issue 18) ---
    safe(
        "self-rebinding b = b[:-1]",
        N + "b = np.arange(6.)\nb = b[:-1]\nb[0] = 9\nc = b * 1\n",
    ),
    safe(
        "self-rebinding A = A[:, 0:-1]",
        T + "A = torch.zeros(3, 4)\nA = A[:, 0:-1]\nA[1, 0] = 2\nB = A * 1\n",
    ),
    safe(
        "variable holding a tuple of index arrays",
        N
        + "d = np.arange(12.).reshape(3, 4)\nlabels = np.array([1, 0, 3])\n"
        + "idx = (np.arange(3), labels[0:3])\nt = d[idx]\nd[idx] = -1.0\nu = t * 1\n",
    ),
    safe(
        "index arrays from where (ruler[indices][loc]) select: a copy",
        T
        + "keep = torch.ones(6) > 0\nruler = torch.arange(6)\n"
        + "indices = torch.where(ruler > 1)[0]\nloc = torch.where(ruler[indices] > 3)\n"
        + "mask = keep[ruler[indices][loc]]\nkeep[ruler[indices]] = False\n"
        + "keep[ruler[indices][loc][mask]] = True\n",
    ),
    Row(
        "index of unknown rank is not definite",
        T
        + "def f(ruler, indices, loc):\n"
        + "    keep = torch.ones(6) > 0\n"
        + "    ruler = torch.arange(6)\n"
        + "    mask = keep[ruler[indices][loc]]\n"
        + "    keep[ruler[indices]] = False\n"
        + "    keep[ruler[indices][loc][mask]] = True\n"
        + "f(None, torch.tensor([2, 3, 4]), torch.tensor([1, 2]))\n",
        (("TV002", 7, "information"),),
        False,
    ),
    safe(
        "distinct constant keys of a dict",
        "res = {'xl': [1], 'xr': [2]}\nxl, xr = res['xl'], res['xr']\nres['xl'] = [3]\n"
        + "y = xr\n",
    ),
    safe(
        "dict store replaces, never writes into the value read before",
        "def f(res):\n    v = res['k']\n    res['k'] = 1\n    return v\n",
    ),
    safe(
        "dict swap of distinct keys",
        "def f(d):\n    d['a'], d['b'] = d['b'], d['a']\n",
    ),
    Row(
        "numpy element of unknown ndim is not definite",
        N
        + "def f(X, i, j):\n    alpha = np.dot(X, X)\n"
        + "    alpha[i], alpha[j] = alpha[j], alpha[i]\n",
        (("TV001", 4, "information"),),
        False,
    ),
    bug(
        "numpy structured array records (np.void views)",
        N
        + "rec = np.zeros(3, dtype=[('a', 'f8'), ('b', 'i4')])\nrec['a'] = [1, 2, 3]\n"
        + "rec[0], rec[1] = rec[1], rec[0]\n",
        4,
    ),
    bug(
        "numpy records through a named dtype",
        N
        + "dt = np.dtype([('a', 'f8'), ('b', 'i4')])\nrec = np.zeros(3, dtype=dt)\n"
        + "rec['a'] = [1, 2, 3]\nrec[0], rec[1] = rec[1], rec[0]\n",
        5,
    ),
    bug(
        "numpy record field swap",
        N
        + "rec = np.zeros(3, dtype=[('a', 'f8'), ('b', 'f8')])\nrec['a'] = [1, 2, 3]\n"
        + "rec['a'], rec['b'] = rec['b'], rec['a']\n",
        4,
    ),
    bug(
        "torch narrow (method view)",
        T + "x = torch.arange(6)\nx[0:3], x[3:6] = x.narrow(0, 3, 3), x.narrow(0, 0, 3)\n",
        3,
    ),
    safe(
        "torch narrow of disjoint parts",
        T + "x = torch.arange(9)\nx[0:3], x[3:6] = x.narrow(0, 3, 3), x.narrow(0, 6, 3)\n",
    ),
    bug(
        "torch narrow temporary",
        T + "x = torch.arange(6)\ntmp = x.narrow(0, 0, 3)\nx[0:3] = x[3:6]\nx[3:6] = tmp\n",
        5,
        "TV002",
    ),
    bug(
        "torch select temporary",
        T + "x = torch.arange(6).reshape(3, 2)\ntmp = x.select(0, 0)\nx[0] = x[1]\nx[1] = tmp\n",
        5,
        "TV002",
    ),
    bug(
        "torch unbind parts",
        T + "x = torch.arange(6).reshape(3, 2)\na, b, c = x.unbind(0)\nx[0] = x[1]\nx[1] = a\n",
        5,
        "TV002",
    ),
    bug(
        "torch split parts",
        T + "x = torch.arange(6).reshape(3, 2)\na, b = x.split(2)\nx[0] = x[2]\nx[2] = a[0]\n",
        5,
        "TV002",
    ),
    bug(
        "torch diagonal temporary",
        T + "x = torch.arange(4).reshape(2, 2)\nd = x.diagonal()\nx[0, 0] = 7\ny = d * 1\n",
        5,
        "TV002",
    ),
    bug(
        "numpy .T temporary",
        N + "x = np.arange(4).reshape(2, 2)\nt = x.T\nx[0] = x[1]\nx[1] = t[0]\n",
        5,
        "TV002",
    ),
    bug(
        "torch view of contiguous data",
        T + "x = torch.arange(6)\nv = x.view(2, 3)\nx[0:3] = x[3:6]\nx[3:6] = v[0]\n",
        5,
        "TV002",
    ),
    bug(
        "numpy generator chain",
        N + "x = np.random.default_rng(0).integers(0, 9, size=(3, 2))\nx[0], x[1] = x[1], x[0]\n",
        3,
    ),
    bug(
        "numpy generator by name",
        N + "rng = np.random.default_rng(0)\nx = rng.random((3, 2))\nx[0], x[1] = x[1], x[0]\n",
        4,
    ),
    bug(
        "numpy astype chain",
        N + "x = np.arange(6).reshape(3, 2).astype(np.float32)\nx[0], x[1] = x[1], x[0]\n",
        3,
    ),
    bug(
        "torch .float() chain",
        T + "x = torch.arange(6).reshape(3, 2).float()\nx[0], x[1] = x[1], x[0]\n",
        3,
    ),
    safe(
        "np.zeros(n + 1) is 1-D: its elements are scalars",
        N + "def f(n, j):\n    v = np.zeros(n + 1)\n    v[j], v[n] = v[n], v[j]\n    return v\n",
    ),
    safe(
        "a generator's permutation of a 1-D array is 1-D",
        N
        + "rng = np.random.default_rng(0)\nperm = rng.permutation(np.arange(5))\n"
        + "perm[0], perm[1] = perm[1], perm[0]\n",
    ),
    bug(
        "iteration over a known array gives row views",
        T + "x = torch.arange(12).reshape(2, 3, 2)\nfor m in x:\n    m[0], m[1] = m[1], m[0]\n",
        4,
    ),
    bug(
        "zip over known arrays gives row views",
        N
        + "x = np.arange(12).reshape(2, 3, 2)\ny = np.zeros((2, 3))\nfor m, w in zip(x, y):\n"
        + "    m[0], m[1] = m[1], m[0]\n",
        5,
    ),
    bug(
        "enumerate over a known array gives row views",
        T
        + "x = torch.arange(12).reshape(2, 3, 2)\nfor i, m in enumerate(x):\n"
        + "    m[0], m[1] = m[1], m[0]\n",
        4,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_findings_match_the_table(row: Row) -> None:
    findings = find_swap_hazards(row.source)
    assert [(f.code, f.range.line, f.severity) for f in findings] == list(row.expected)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_label_is_true_at_run_time(row: Row, corrupts_fn: Callable[[str], bool]) -> None:
    assert corrupts_fn(row.source) == row.corrupts


FIXABLE = [row for row in ROWS if row.corrupts]


@pytest.mark.parametrize("row", FIXABLE, ids=str)
def test_every_fix_removes_the_finding_and_repairs_the_code(
    row: Row, corrupts_fn: Callable[[str], bool]
) -> None:
    (finding,) = find_swap_hazards(row.source)
    assert finding.fixes
    for fix in finding.fixes:
        fixed = apply_text_edits(row.source, fix.edits)
        assert fix.fixed_statement in fixed
        assert find_swap_hazards(fixed) == [], fix.title
        assert not corrupts_fn(fixed), fix.title


def test_copy_fix_touches_only_the_clobbered_item() -> None:
    source = T + "x = torch.arange(4)\nx[0], x[1] = x[1], x[0]\n"
    (finding,) = find_swap_hazards(source)
    assert finding.fixes[0].fixed_statement == "x[0], x[1] = x[1], x[0].clone()"
    assert finding.fixes[1].fixed_statement == "x[[0, 1]] = x[[1, 0]]"
    (clobber,) = finding.clobbers
    assert (clobber.read, clobber.written_by) == ("x[0]", "x[0]")
    assert (clobber.read_range.column, clobber.written_range.column) == (19, 0)


def test_rotation_fix_values(run_fn: Callable[[str], dict[str, object]]) -> None:
    source = N + "x = np.arange(6).reshape(3, 2)\nx[0], x[1], x[2] = x[1], x[2], x[0]\n"
    (finding,) = find_swap_hazards(source)
    for fix in finding.fixes:
        result = run_fn(apply_text_edits(source, fix.edits))["x"]
        assert result.tolist() == [[2, 3], [4, 5], [0, 1]]  # type: ignore[attr-defined]


def test_column_swap_offers_advanced_columns() -> None:
    source = N + "x = np.arange(6).reshape(2, 3)\nx[:, 0], x[:, 1] = x[:, 1], x[:, 0]\n"
    (finding,) = find_swap_hazards(source)
    assert [f.fixed_statement for f in finding.fixes] == [
        "x[:, 0], x[:, 1] = x[:, 1], x[:, 0].copy()",
        "x[:, [0, 1]] = x[:, [1, 0]]",
    ]


def test_explanation_walks_through_the_seed() -> None:
    source = T + "a = torch.zeros(3)\nb = torch.ones(3)\na[0], b[0] = b[0], a[0]\n"
    (finding,) = find_swap_hazards(source)
    assert finding.container == "torch"
    assert "`a[0]` is a view" in finding.explanation
    assert "The store into `a[0]` runs before `b[0]`" in finding.explanation
    assert finding.explanation.endswith("```python\na[0], b[0] = b[0], a[0].clone()\n```")
    assert "\n" not in finding.message and "a[0].clone()" in finding.message


def test_tv002_points_at_the_read_and_names_the_store_relatively() -> None:
    source = (
        T + "x = torch.zeros(3, 2)\ntmp = x[0]\nx[0] = x[1]\n"
        "for k in range(3):\n    print(k)\n    x[1] = tmp\n"
    )
    (finding,) = find_swap_hazards(source)
    # The range is the read itself, not the whole compound statement.
    assert (finding.range.line, finding.range.end_line) == (7, 7)
    assert (finding.range.column, finding.range.end_column) == (11, 14)
    assert "3 lines above" in finding.message
    assert "line 4" not in finding.message and "line 4" not in finding.explanation
    made, store = finding.related
    assert (made.range.line, made.range.column, made.range.end_column) == (3, 6, 10)
    assert made.message == "tmp is made a view of x[0] here (no copy)"
    assert (store.range.line, store.range.column, store.range.end_column) == (4, 0, 4)
    assert store.message == "this store overwrites what tmp shows"


def test_tv002_store_on_the_line_before() -> None:
    source = T + "x = torch.zeros(3, 2)\ntmp = x[0]\nx[0] = x[1]\nx[1] = tmp\n"
    (finding,) = find_swap_hazards(source)
    assert "the store into `x[0]` on the line before overwrote" in finding.message


def test_tv001_related_locations_are_the_earlier_stores() -> None:
    source = T + "x = torch.arange(4)\nx[0], x[1] = x[1], x[0]\n"
    (finding,) = find_swap_hazards(source)
    (store,) = finding.related
    assert (store.range.line, store.range.column, store.range.end_column) == (3, 0, 4)
    assert store.message == "this store runs first and overwrites what x[0] shows"


def test_record_swap_fix_copies_the_record() -> None:
    source = (
        N + "rec = np.zeros(3, dtype=[('a', 'f8'), ('b', 'i4')])\nrec[0], rec[1] = rec[1], rec[0]\n"
    )
    (finding,) = find_swap_hazards(source)
    assert finding.fixes[0].fixed_statement == "rec[0], rec[1] = rec[1], rec[0].copy()"


def test_split_parts_fix_copies_before_splitting() -> None:
    source = T + "x = torch.arange(6).reshape(3, 2)\na, b, c = x.unbind(0)\nx[0] = x[1]\nx[1] = a\n"
    (finding,) = find_swap_hazards(source)
    assert finding.fixes[0].fixed_statement == "a, b, c = x.clone().unbind(0)"


def test_tv002_store_earlier_on_the_same_line() -> None:
    source = N + "x = np.zeros((3, 2))\ntmp = x[0]; x[0] = x[1]; x[1] = tmp\n"
    (finding,) = find_swap_hazards(source)
    assert "the store into `x[0]` earlier on this line overwrote" in finding.message
