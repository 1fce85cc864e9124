"""Tensor Views language server package.

``tensorviews.rules`` holds the pure swap-of-views analysis (no pygls, no IPython);
``lsp_server.cli`` is the ``python -m lsp_server check`` command line.
"""
