"""The README is the operator's manual: its commands and its settings table must match the code."""

from __future__ import annotations

import re
from pathlib import Path

from services.config import documented_settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_run_and_test_commands_and_ci_runs_the_test_command() -> None:
    first_block = README.split("```")[1].strip().splitlines()
    assert first_block == ["bash infra/local/run.sh", "bash infra/local/test.sh"]
    assert "bash infra/local/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_is_documented_in_the_readme() -> None:
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", README, flags=re.MULTILINE))
    assert {name for name, _, _ in documented_settings()} <= documented
