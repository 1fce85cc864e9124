"""The guard's instrumentation never touches what user objects do: no ``__class__`` read, no
extra ``__torch_function__`` call, no user global deleted (real kernel, with and without)."""

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


@pytest.fixture(scope="module")
def runs() -> tuple[Any, Any]:
    return (run_cells(["%load_ext tensorviews", CODE], timeout=120),
            run_cells(["pass", CODE], timeout=120))


def test_hostile_objects_see_the_same_calls_with_the_guard(runs: tuple[Any, Any]) -> None:
    guarded, plain = runs
    expected = stream_text(plain.cells[1])
    assert expected.startswith("0 ")
    assert stream_text(guarded.cells[1]) == expected
