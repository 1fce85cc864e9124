"""The rules on real code: every ``.py`` and ``.ipynb`` of real packages, findings and time.

Run: ``python benchmarks/bench_real_code.py [--offline] [--package NAME ...]``.

Sources: the packages installed next to this interpreter (torch, numpy) and, when they can be
had, the wheels of scipy, scikit-learn and transformers from PyPI (``pip download --no-deps``),
cached and unpacked under the ignored ``benchmarks/results/real-code/``. A package that is
neither installed nor downloadable (offline) is skipped and named in the output.

Each file is read once, then ``ast.parse`` and the rules (``find_swap_hazards``, or
``find_swap_hazards_in_cells`` for a notebook's code cells, exactly what ``check`` runs) are
timed on the same text one after the other, so a busy machine slows both alike. The rules
parse the text themselves, so ``rules / parse`` near 1.0 means they add almost nothing.
Goals (issue 18): no definite finding (``error``/``warning``, what makes ``check`` exit 1) in
this code, and ``rules / parse < 1.5``. Results go to ``benchmarks/results/real_code.json``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import json
import platform
import subprocess
import sys
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tensorviews.rules import find_swap_hazards, find_swap_hazards_in_cells  # noqa: E402
from tensorviews.rules.notebook_cells import NotebookError, read_code_cells  # noqa: E402

CACHE = REPO / "benchmarks" / "results" / "real-code"
INSTALLED = ("torch", "numpy")
DOWNLOADED = {"scipy": "scipy", "scikit-learn": "sklearn", "transformers": "transformers"}
LISTED_DEFINITE = 10
DOWNLOAD_TIMEOUT_S = 300


@dataclass
class Tally:
    """What one package's files gave."""

    files: int = 0
    lines: int = 0
    unreadable: int = 0
    parse_s: float = 0.0
    rules_s: float = 0.0
    severities: Counter[str] = field(default_factory=Counter)
    definite: list[str] = field(default_factory=list)


def installed_root(module: str) -> Path | None:
    """The folder of an importable package (None when it is not installed)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def downloaded_root(distribution: str, module: str, offline: bool) -> tuple[Path | None, str]:
    """The unpacked sources of ``distribution``'s wheel, downloading it when allowed."""
    unpacked = CACHE / "src" / distribution
    if (unpacked / module).is_dir():
        return unpacked / module, "cached wheel"
    wheels = CACHE / "wheels"
    normalised = distribution.replace("-", "_")
    found = sorted(wheels.glob(f"{normalised}-*.whl")) if wheels.is_dir() else []
    if not found and not offline:
        wheels.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        try:
            subprocess.run(
                [*command, "--quiet", "-d", str(wheels), distribution],
                check=True,
                capture_output=True,
                timeout=DOWNLOAD_TIMEOUT_S,
            )
        except (OSError, subprocess.SubprocessError):
            return None, "cannot download (offline?)"
        found = sorted(wheels.glob(f"{normalised}-*.whl"))
    if not found:
        return None, "not cached, and --offline" if offline else "no wheel found"
    try:
        with zipfile.ZipFile(found[-1]) as wheel:
            wheel.extractall(unpacked)
    except (OSError, zipfile.BadZipFile) as error:
        return None, f"cannot unpack {found[-1].name}: {error}"
    return (unpacked / module, found[-1].name) if (unpacked / module).is_dir() else (None, "")


def sources(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file())


def measure_file(path: Path, tally: Tally, shown: str) -> None:
    try:
        if path.suffix == ".ipynb":
            cells = [cell.source for cell in read_code_cells(path)]
        else:
            cells = [path.read_text(encoding="utf-8")]
    except (OSError, UnicodeDecodeError, NotebookError):
        tally.unreadable += 1
        return
    tally.files += 1
    tally.lines += sum(cell.count("\n") + 1 for cell in cells)
    start = time.perf_counter()
    for cell in cells:
        with contextlib.suppress(SyntaxError, ValueError, RecursionError, MemoryError):
            ast.parse(cell)
    middle = time.perf_counter()
    if path.suffix == ".ipynb":
        per_cell = find_swap_hazards_in_cells(cells)
    else:
        per_cell = [find_swap_hazards(cells[0])]
    tally.parse_s += middle - start
    tally.rules_s += time.perf_counter() - middle
    for index, findings in enumerate(per_cell):
        for finding in findings:
            tally.severities[finding.severity] += 1
            if finding.severity != "information" and len(tally.definite) < LISTED_DEFINITE:
                cell = f"[cell {index}]" if path.suffix == ".ipynb" else ""
                tally.definite.append(
                    f"{shown}{cell}:{finding.range.line}: {finding.code} {finding.message}"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="never download wheels")
    parser.add_argument("--package", action="append", help="only these packages (repeatable)")
    options = parser.parse_args(argv)
    wanted = set(options.package or [])
    roots: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    origin: dict[str, str] = {}
    for module in INSTALLED:
        if wanted and module not in wanted:
            continue
        root = installed_root(module)
        if root is None:
            skipped[module] = "not installed"
        else:
            roots[module], origin[module] = root, "installed"
    for distribution, module in DOWNLOADED.items():
        if wanted and distribution not in wanted and module not in wanted:
            continue
        found, how = downloaded_root(distribution, module, options.offline)
        if found is None:
            skipped[distribution] = how
        else:
            roots[distribution], origin[distribution] = found, how
    tallies: dict[str, Tally] = {}
    for name, root in roots.items():
        tally = tallies[name] = Tally()
        for path in sources(root):
            measure_file(path, tally, f"{name}/{path.relative_to(root).as_posix()}")
    total = Tally()
    for tally in tallies.values():
        total.files += tally.files
        total.lines += tally.lines
        total.unreadable += tally.unreadable
        total.parse_s += tally.parse_s
        total.rules_s += tally.rules_s
        total.severities.update(tally.severities)
        total.definite.extend(tally.definite)
    ratio = total.rules_s / total.parse_s if total.parse_s else 0.0
    definite = total.severities["error"] + total.severities["warning"]
    result = {
        "packages": {
            name: {
                "origin": origin[name],
                "files": tally.files,
                "lines": tally.lines,
                "unreadable": tally.unreadable,
                "findings": dict(sorted(tally.severities.items())),
                "parse_s": round(tally.parse_s, 3),
                "rules_s": round(tally.rules_s, 3),
            }
            for name, tally in tallies.items()
        },
        "skipped": skipped,
        "files": total.files,
        "lines": total.lines,
        "unreadable": total.unreadable,
        "findings": {s: total.severities[s] for s in ("error", "warning", "information")},
        "definite_listed": total.definite[:LISTED_DEFINITE],
        "parse_s": round(total.parse_s, 3),
        "rules_s": round(total.rules_s, 3),
        "rules_over_parse": round(ratio, 3),
        "goal": "no definite finding, rules_over_parse < 1.5",
        "goal_met": definite == 0 and 0 < ratio < 1.5,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    for name, tally in tallies.items():
        counts = ", ".join(f"{k} {v}" for k, v in sorted(tally.severities.items())) or "none"
        print(f"{name:<14}{tally.files:>7} files {tally.lines:>9} lines  findings: {counts}")
    for name, why in skipped.items():
        print(f"{name:<14}skipped: {why}")
    print(f"{'files':<28}{total.files:>10}")
    print(f"{'lines':<28}{total.lines:>10}")
    for severity in ("error", "warning", "information"):
        print(f"{'findings: ' + severity:<28}{total.severities[severity]:>10}")
    print(f"{'ast.parse (s)':<28}{result['parse_s']:>10}")
    print(f"{'rules (s)':<28}{result['rules_s']:>10}")
    print(f"{'rules / parse':<28}{result['rules_over_parse']:>10}")
    for line in total.definite[:LISTED_DEFINITE]:
        print(f"  definite: {line}")
    out = REPO / "benchmarks" / "results" / "real_code.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
