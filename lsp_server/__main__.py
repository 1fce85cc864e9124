"""Command line: `python -m lsp_server` runs the language server; `... check PATH...` the CLI.

    python -m lsp_server                      # language server over stdio (what editors start)
    python -m lsp_server --tcp --port 2087    # language server over TCP, for debugging
    python -m lsp_server check a.py b.ipynb   # report findings; see `check --help`

`check` is dispatched before anything imports pygls, so the CLI works without the `lsp` extra.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The server's own options."""
    from lsp_server.version import server_version

    parser = argparse.ArgumentParser(
        prog="python -m lsp_server",
        description="Tensor Views language server: swap-of-views diagnostics, hovers and "
        "quick fixes for Python files and notebooks. Use `python -m lsp_server check PATH...` "
        "to check files from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"tensorviews {server_version()}")
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    parser.add_argument("--tcp", action="store_true", help="listen on a TCP socket instead")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default: %(default)s)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default: %(default)s)")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging to stderr (default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI or the language server; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"]:
        from lsp_server.cli import main as check_main

        return check_main(args[1:])
    options = parse_args(args)
    logging.basicConfig(level=options.log_level, stream=sys.stderr)
    from lsp_server.server import create_server

    server = create_server()
    if options.tcp:
        server.start_tcp(options.host, options.port)
    else:
        server.start_io()
    return 0


if __name__ == "__main__":
    sys.exit(main())
