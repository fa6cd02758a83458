"""Settings: the generated phone-hash key is one key for every process of a data directory."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from hotline.config import Settings


def _key(data_dir: Path, start: Any, out: Any) -> None:
    settings = Settings(data_dir=data_dir)
    start.wait()
    out.put(settings.phone_hash_key())


def test_processes_starting_together_generate_one_key(tmp_path: Path) -> None:
    # `hotline serve --workers N` on a fresh data directory: every worker asks at once.
    context = multiprocessing.get_context("fork")
    for n in range(20):
        data_dir = tmp_path / str(n)
        start, out = context.Barrier(3), context.Queue()
        workers = [context.Process(target=_key, args=(data_dir, start, out)) for _ in range(3)]
        for w in workers:
            w.start()
        keys = {out.get(timeout=60) for _ in workers}
        for w in workers:
            w.join(60)
        assert keys == {(data_dir / "phone-hash.key").read_text().strip().encode()}
        assert len(next(iter(keys))) == 64
        assert (data_dir / "phone-hash.key").stat().st_mode & 0o777 == 0o600
        assert [p.name for p in data_dir.iterdir()] == ["phone-hash.key"]
