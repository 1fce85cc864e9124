"""``python -m tensorviews merge rank*.json [--format text|json]``: one table of a distributed
job's ranks (see ``tensorviews.merge``). Exit 0: merged; 1: merged, some files left out;
2: usage error or nothing to merge (one line on stderr each)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tensorviews.merge import MergeError, merge, read_rank_file, to_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tensorviews")
    commands = parser.add_subparsers(dest="command", required=True)
    merge_cmd = commands.add_parser(
        "merge", help="merge the snapshot files of a distributed job's ranks into one table"
    )
    merge_cmd.add_argument("files", nargs="+", type=Path, help="rank snapshot files")
    merge_cmd.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    files, problems = [], []
    for path in args.files:
        try:
            files.append(read_rank_file(path))
        except MergeError as exc:
            problems.append(str(exc))
            print(f"tensorviews merge: {exc}", file=sys.stderr)
    if not files:
        print("tensorviews merge: no rank snapshot could be read", file=sys.stderr)
        return 2
    merged = merge(files, problems)
    if args.format == "json":
        sys.stdout.write(json.dumps(merged.to_dict(), indent=1) + "\n")
    else:
        sys.stdout.write(to_text(merged))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
