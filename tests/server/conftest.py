"""The session's jupyter-server, shared by the server tests and the browser test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.jupyter import JupyterServer, running_server


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """`jupyter server` enabled by the repo's own `jupyter_server_config.d` file."""
    with running_server(tmp_path_factory.mktemp("jupyter")) as server:
        yield server
