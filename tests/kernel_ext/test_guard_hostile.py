"""The guard's instrumentation never touches what user objects do: no ``__class__`` read, no
extra ``__torch_function__`` call, no container indexed more often, no user global deleted, no
error where the original runs (real kernel, with and without)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kernel_ext.notebook_runner import run_cells, stream_text

CODE = (
    "import torch\n"
    "reads = []\n"
    "class Box:\n"
    "    def __init__(self, v):\n        self.v = v\n"
    "    @property\n"
    "    def __class__(self):\n        reads.append(1)\n        return Box\n"
    "calls = []\n"
    "class Sub(torch.Tensor):\n"
    "    @classmethod\n"
    "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
    "        calls.append(1)\n"
    "        return super().__torch_function__(func, types, args, kwargs or {})\n"
    "def swap(x):\n    x[0], x[1] = x[1], x[0]\n    return x\n"
    "__tv_mine__ = 'kept'\n"
    "swap([Box(1), Box(2)])\n"
    "s = torch.arange(6).reshape(3, 2).as_subclass(Sub)\n"
    "calls.clear()\nswap(s)\n"
    "def make():\n    return [1, 2]\ny = make()\ny[0], y[1] = y[1], y[0]\n"
    "print(len(reads), len(calls), __tv_mine__)\n"
)
# Containers and classes whose every use is counted or odd: the guard's checked path (tensors
# inside) must index them exactly as the original statement does, and must not raise where the
# original runs.
CONTAINERS = (
    "import torch\n"
    "log = []\n"
    "class Rows(list):\n"
    "    def __getitem__(self, k):\n        log.append(('get', k))\n"
    "        return list.__getitem__(self, k)\n"
    "    def __setitem__(self, k, v):\n        log.append(('set', k))\n"
    "        list.__setitem__(self, k, v)\n"
    "    def __len__(self):\n        log.append('len')\n        return list.__len__(self)\n"
    "class Unhashable(type):\n    __hash__ = None\n"
    "class Odd(metaclass=Unhashable):\n    pass\n"
    "class Raising:\n"
    "    @property\n"
    "    def __class__(self):\n        raise RuntimeError('no class for you')\n"
    "def swap(x):\n    x[0], x[1] = x[1], x[0]\n    return x\n"
    "rows = Rows([torch.zeros(2), torch.ones(2)])\n"
    "swap(rows)\n"
    "odd = swap([Odd(), Odd()])\n"
    "raising = swap([Raising(), Raising()])\n"
    "m = torch.arange(4).reshape(2, 2)\n"
    "swap(m)\n"
    "print(log, [r.tolist() for r in rows], type(odd[0]).__name__, m.tolist())\n"
)


@pytest.fixture(scope="module")
def runs() -> tuple[Any, Any]:
    return (run_cells(["%load_ext tensorviews", CODE, CONTAINERS], timeout=120),
            run_cells(["pass", CODE, CONTAINERS], timeout=120))


def test_hostile_objects_see_the_same_calls_with_the_guard(runs: tuple[Any, Any]) -> None:
    guarded, plain = runs
    expected = stream_text(plain.cells[1])
    assert expected.startswith("0 ")
    assert stream_text(guarded.cells[1]) == expected


def test_containers_are_indexed_as_often_and_odd_classes_run_the_same(
    runs: tuple[Any, Any],
) -> None:
    guarded, plain = runs
    expected = stream_text(plain.cells[2])
    assert expected.startswith("[('get', 1), ('get', 0), ('set', 0), ('set', 1)]")
    assert stream_text(guarded.cells[2]) == expected
    assert not [o for o in guarded.cells[2].outputs if o.output_type == "error"]
