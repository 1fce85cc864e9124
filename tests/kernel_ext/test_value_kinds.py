"""One container kind per live value, for the guard and the live file alike."""

from __future__ import annotations

import array
import json

import numpy as np
import torch

from tensorviews.live.value_kinds import container_kind


class Hostile:
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        raise RuntimeError("no")


class ArrayLike:
    @property
    def __array_interface__(self) -> dict[str, object]:
        return {"shape": (2,), "typestr": "<f8", "version": 3}


def test_kinds() -> None:
    assert container_kind(torch.zeros(2)) == "torch"
    assert container_kind(torch.nn.Parameter(torch.zeros(2))) == "torch"
    assert container_kind(np.zeros(2)) == "numpy"
    assert container_kind([torch.zeros(2)]) == "list"
    for other in [(1,), {"a": torch.zeros(1)}, "s", b"b", 1, 1.5, True, None, {1}, range(3),
                  np.float64(1.0)]:
        assert container_kind(other) == "other", other
    for unknown in [Hostile(), ArrayLike(), array.array("d", [1.0]), object()]:
        assert container_kind(unknown) == "unknown", type(unknown)
    assert container_kind(json) is None
