"""The jupyter-lsp spec of the Tensor Views language server, found through the
``jupyter_lsp_spec_v1`` entry point: with jupyterlab-lsp installed, JupyterLab starts
``python -m lsp_server`` (with this Python) for Python notebooks and files by itself."""

from __future__ import annotations

import sys
from typing import Any


def tensorviews_spec(manager: Any = None) -> dict[str, dict[str, Any]]:
    """The spec jupyter-lsp calls with its ``LanguageServerManager``; the server is this
    package, so it is always available where this module is."""
    return {
        "tensorviews": {
            "version": 2,
            "argv": [sys.executable, "-m", "lsp_server"],
            "languages": ["python"],
            "mime_types": ["text/python", "text/x-ipython"],
            "display_name": "Tensor Views",
        }
    }
