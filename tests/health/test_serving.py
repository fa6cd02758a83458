"""The app ``hotline serve`` runs: its caches are filled and its heap settled before it answers."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hotline.app import create_app
from hotline.config import Settings
from hotline.ops import heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
async def test_a_serving_app_loads_its_caches_and_settles_its_heap(settings: Settings) -> None:
    app = create_app(settings, serving=True)
    async with app.router.lifespan_context(app):
        state = app.state
        assert state.routing._state is not None
        assert state.calendars._state is not None
        assert gc.get_threshold()[2] == heap.FULL_EVERY
        assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("restored_gc")
async def test_a_plain_app_leaves_the_collector_alone(settings: Settings) -> None:
    before = gc.get_threshold()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert app.state.routing._state is None
        assert gc.get_threshold() == before
