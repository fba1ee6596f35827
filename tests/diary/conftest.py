"""The journal's test school (tests/journal/conftest.py) serves the diary's tests too."""

from tests.journal.conftest import journal, people  # noqa: F401 - fixtures
