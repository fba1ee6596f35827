"""The journal's test school (tests/journal/conftest.py) serves the printed reports' tests too."""

from tests.journal.conftest import journal, people  # noqa: F401 - fixtures
