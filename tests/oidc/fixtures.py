"""The `oidc_provider` fixture: one real OpenID provider for the whole test session.

A test package uses it by importing it into its conftest.py (`from tests.oidc.fixtures import oidc_provider`),
or the whole suite by `pytest_plugins = ["tests.oidc.fixtures"]` in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.oidc.harness import RunningProvider, ensure_node, start_provider


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[RunningProvider]:
    """node's oidc-provider on 127.0.0.1 with one confidential client (PKCE required); stopped after the session."""
    ensure_node()
    provider = start_provider()
    try:
        yield provider
    finally:
        provider.stop()
