"""Fixtures of the identity tests."""

from tests.oidc.fixtures import oidc_provider

__all__ = ["oidc_provider"]
