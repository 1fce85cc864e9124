"""Tensor Views jupyter-server extension: the kernels' storage graphs over REST and a page.

Enabled on install by `etc/jupyter/jupyter_server_config.d/tensorviews.json`, or by name:
`jupyter server --ServerApp.jpserver_extensions='{"tensorviews_server": true}'`.
`GET /tensorviews/api/kernels`, `GET /tensorviews/api/kernels/<id>/graph?format=json|svg|dot`,
and the page `/tensorviews/`.
"""

from __future__ import annotations

from typing import Any

from tensorviews_server.handlers import TensorViews, handlers


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "tensorviews_server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the handlers and the extension's settings with the server."""
    web_app = serverapp.web_app
    web_app.settings["tensorviews"] = TensorViews(config=serverapp.config)
    web_app.add_handlers(".*$", handlers(web_app.settings["base_url"]))
    serverapp.log.info("tensorviews: /tensorviews/ and /tensorviews/api/kernels enabled")
