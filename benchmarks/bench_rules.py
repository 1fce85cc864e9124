"""Rule time vs ``ast.parse`` time on a generated 10,000-line module.

Run: ``python benchmarks/bench_rules.py``. Both are timed on the same text, alternately (so a
busy machine slows both alike), median of nine runs after a warm-up. "parse" is
``ast.parse(text)``; "rules" is ``find_swap_hazards(text)``, which parses once itself, so
``rules / parse`` near 1.0 means the rules add almost nothing, and the goal (rules add under
50%) is ``rules / parse < 1.5``. Results go to
``benchmarks/results/rules.json``.
"""

from __future__ import annotations

import ast
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tensorviews.rules import find_swap_hazards  # noqa: E402

TARGET_LINES = 10_000
RUNS = 9

HEADER = "import numpy as np\nimport torch\nfrom typing import Any\n\n"

# Realistic blocks: model code, data prep, training loops, parsing, list shuffles; one block in
# nine has a buggy tensor swap, one a possible swap through a temporary.
BLOCKS = [
    '''
class Layer{n}(torch.nn.Module):
    """A small layer."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.weight = torch.randn(width, width)
        self.bias = torch.zeros(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x @ self.weight + self.bias
        return torch.relu(y)

    def swap_units(self, i: int, j: int) -> None:
        self.weight[i], self.weight[j] = self.weight[j], self.weight[i]
''',
    """
def prepare{n}(pixels: Any, mean: float = 0.5) -> np.ndarray:
    frame = np.array(pixels, dtype=np.float32) / 255.0
    frame = frame - mean
    height, width, channels = frame.shape
    frame[:, :, 0], frame[:, :, 2] = frame[:, :, 2], frame[:, :, 0].copy()
    scaled = [value * 2 for value in range(channels)]
    return frame.reshape(height * width, channels)
""",
    """
def shuffle{n}(items: list[int], seed: int) -> list[int]:
    order = list(range(len(items)))
    for k in range(len(order) - 1, 0, -1):
        j = (seed * k) % (k + 1)
        order[k], order[j] = order[j], order[k]
    return [items[i] for i in order]
""",
    """
def pivot{n}(a):
    n = len(a)
    for i in range(n):
        best = max(range(i, n), key=lambda r: abs(a[r][i]))
        if best != i:
            row = a[i]
            a[i] = a[best]
            a[best] = row
    total = sum(a[i][i] for i in range(n))
    return total
""",
    """
def train{n}(model: torch.nn.Module, batches: list[torch.Tensor], lr: float = 0.1) -> float:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    total = 0.0
    for step, batch in enumerate(batches):
        optimizer.zero_grad()
        loss = model(batch).pow(2).mean()
        loss.backward()
        optimizer.step()
        total += loss.item()
        if step % 100 == 0:
            print(f"step {{step}}: {{loss.item():.4f}}")
    return total / max(len(batches), 1)
""",
    """
def parse_config{n}(text: str) -> dict[str, str]:
    settings: dict[str, str] = {{}}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        settings[key.strip()] = value.strip()
    return settings
""",
    """
def normalise{n}(grid: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    lo = grid.min(axis=0)
    hi = grid.max(axis=0)
    scaled = (grid - lo) / (hi - lo + eps)
    scaled[scaled < 0] = 0
    mask = scaled > 0.5
    return np.where(mask, scaled, 0.0)
""",
    """
class Counter{n}:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {{}}

    def add(self, word: str) -> None:
        self.counts[word] = self.counts.get(word, 0) + 1

    def top(self, k: int) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda kv: -kv[1])[:k]
""",
    """
def stats{n}(values: np.ndarray) -> dict[str, float]:
    result = {{"mean": float(values.mean()), "std": float(values.std())}}
    if result["std"] > 0:
        result["z"] = float((values[0] - result["mean"]) / result["std"])
    else:
        result["z"] = 0.0
    return result
""",
]


def generate_module(lines: int = TARGET_LINES) -> str:
    parts = [HEADER]
    count = HEADER.count("\n")
    n = 0
    while count < lines:
        block = BLOCKS[n % len(BLOCKS)].format(n=n)
        parts.append(block)
        count += block.count("\n")
        n += 1
    return "".join(parts)


def interleaved_medians(
    first: Callable[[], object], second: Callable[[], object], runs: int = RUNS
) -> tuple[float, float]:
    """Median seconds of two actions timed alternately, so machine noise hits both alike."""
    first()  # warm-up
    second()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for action, bucket in ((first, samples[0]), (second, samples[1])):
            start = time.perf_counter()
            action()
            bucket.append(time.perf_counter() - start)
    return statistics.median(samples[0]), statistics.median(samples[1])


def main() -> int:
    text = generate_module()
    lines = text.count("\n")
    findings = find_swap_hazards(text)
    parse, rules = interleaved_medians(lambda: ast.parse(text), lambda: find_swap_hazards(text))
    ratio = rules / parse
    result = {
        "lines": lines,
        "runs": RUNS,
        "parse_ms": round(parse * 1000, 2),
        "rules_ms": round(rules * 1000, 2),
        "rules_over_parse": round(ratio, 3),
        "added_over_parse_percent": round((ratio - 1) * 100, 1),
        "findings": len(findings),
        "goal": "rules_over_parse < 1.5",
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(f"{'module lines':<28}{lines:>10}")
    print(f"{'ast.parse (median ms)':<28}{result['parse_ms']:>10}")
    print(f"{'find_swap_hazards (ms)':<28}{result['rules_ms']:>10}")
    print(f"{'rules / parse':<28}{result['rules_over_parse']:>10}")
    print(f"{'added over parse (%)':<28}{result['added_over_parse_percent']:>10}")
    print(f"{'findings':<28}{len(findings):>10}")
    out = REPO / "benchmarks" / "results" / "rules.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
