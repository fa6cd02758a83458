"""hotline suggest train / list / use (SQLite data directory)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _restore_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI exports its settings for server worker processes; keep that out of other tests.
    monkeypatch.setenv("HOTLINE_DATA_DIR", "unused")
    monkeypatch.setenv("HOTLINE_DATABASE__URL", "")


def test_train_list_use(tmp_path: Path) -> None:
    where = ["--data-dir", str(tmp_path)]
    r = runner.invoke(app, ["suggest", "train", *where])
    assert r.exit_code == 0, r.output
    assert "Model 1 (seed) trained on 0 closed tickets, now served" in r.output
    assert "no accuracy measured" in r.output
    r = runner.invoke(app, ["suggest", "train", "--since", "2026-01-01", *where])
    assert r.exit_code == 0 and "Model 2 (seed)" in r.output
    r = runner.invoke(app, ["suggest", "use", "1", *where])
    assert r.exit_code == 0 and "Model 1 is served" in r.output
    r = runner.invoke(app, ["suggest", "list", *where])
    assert r.exit_code == 0
    lines = [line for line in r.output.splitlines() if "seed" in line]
    assert len(lines) == 2 and "yes" in lines[1] and "yes" not in lines[0]  # newest first
    r = runner.invoke(app, ["suggest", "use", "9", *where])
    assert r.exit_code == 1 and "No suggestion model 9" in r.output
