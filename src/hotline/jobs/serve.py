"""The jobs ``hotline serve`` runs beside the API, with their intervals from the settings:

sweep      every ``HOTLINE_SWEEPER__INTERVAL`` s, one process at a time (advisory lock):
           a sweeper pass, then the metrics roll-up, then hot-spot detection at most every
           ``HOTLINE_SWEEPER__HOTSPOT_INTERVAL`` s (since the last by any process: hotspot_rule),
           and retraining the suggestion model at most every
           ``HOTLINE_SUGGESTION__RETRAIN_INTERVAL`` s when ``…__RETRAIN_MINIMUM`` tickets closed
deliver    every ``HOTLINE_WEBHOOKS__INTERVAL`` s: the webhook outbox (rows claimed with
           SKIP LOCKED, so every process may deliver)
"""

from __future__ import annotations

import functools
import logging
import time
from datetime import timedelta
from typing import Any

from hotline.config import Settings
from hotline.db.session import unit_of_work
from hotline.hotspot import service as hotspots
from hotline.jobs import runner, sweep
from hotline.jobs.runner import Jobs, Stats
from hotline.kit.clock import utcnow
from hotline.metrics import rollup
from hotline.suggestion import training as suggestion_training
from hotline.webhook import delivery

log = logging.getLogger(__name__)
# The advisory lock of the sweep, so that one process sweeps at a time.
SWEEP_LOCK = 0x4E4F544C494E45


def start(state: Any, settings: Settings) -> Jobs:
    """Start the jobs the settings turn on, over the app's engine, sessions and caches."""
    jobs = Jobs()
    if settings.sweeper.enabled:
        stats = jobs.stats["sweep"] = Stats()

        async def sweep_tick() -> None:
            report = await sweep.sweep(
                state.sessionmaker,
                state.routing,
                state.calendars,
                share=settings.sweeper.remind_share,
            )
            _record(stats, report)
            await _refresh(state)
            if await hotspots.due(state.sessionmaker, utcnow(), settings.sweeper.hotspot_interval):
                await _detect(state)
            if await suggestion_training.retrain_due(
                state.sessionmaker,
                utcnow(),
                settings.suggestion.retrain_interval,
                settings.suggestion.retrain_minimum,
            ):
                await _retrain(state, settings)

        jobs.start(
            runner.every(
                settings.sweeper.interval,
                sweep_tick,
                name="sweep",
                log=log,
                engine=state.engine,
                lock=SWEEP_LOCK,
            )
        )
    if settings.webhooks.enabled:

        async def deliver_tick() -> None:
            await delivery.drain(
                state.sessionmaker,
                state.http,
                answer_within=settings.webhooks.timeout,
                lease=timedelta(seconds=settings.webhooks.lease),
                allow_private_targets=settings.webhooks.allow_private_targets,
            )

        jobs.start(
            runner.every(settings.webhooks.interval, deliver_tick, name="webhook delivery", log=log)
        )
    return jobs


def _record(stats: Stats, report: sweep.Report) -> None:
    stats.ticks += 1
    stats.seconds += report.seconds
    stats.last = report.seconds
    if report.reminded or report.overdue:
        log.info(
            "sweep: %d reminded, %d overdue, %d escalated in %.2fs",
            report.reminded,
            report.overdue,
            report.escalated,
            report.seconds,
        )


async def _refresh(state: Any) -> None:
    """Fold the changes since the last pass into the dashboard's roll-up (metrics.rollup). On
    SQLite, whose writers hold the one write lock throughout, the rows are read first in a
    read-only transaction and written in a short one: no appeal waits for the aggregation."""
    started = time.perf_counter()
    computed = None
    if state.engine.dialect.name == "sqlite":
        async with unit_of_work(state.sessionmaker, read_only=True) as session:
            computed = await rollup.compute(session, utcnow())
    if computed is not None:
        if computed.through == computed.previous:
            return
        async with unit_of_work(state.sessionmaker) as session:
            stored = await rollup.store(session, computed, utcnow())
        if stored is None:  # another process refreshed meanwhile
            return
        done = stored
    else:
        async with unit_of_work(state.sessionmaker) as session:
            done = await rollup.refresh(session, utcnow())
    if done.full or done.days:
        log.info(
            "metrics roll-up: %s through change %d in %.2fs",
            "built" if done.full else f"{done.days} day(s) refreshed",
            done.watermark,
            time.perf_counter() - started,
        )


async def _retrain(state: Any, settings: Settings) -> None:
    # Fitting runs in a thread, outside any transaction; every process serves the new model
    # within seconds (suggestion.service).
    # Fitting runs in the serving process's child (hotspot.runner): a fit of 100,000 tickets
    # is a minute of CPU, which in a thread here would hold the GIL the requests need.
    trained = await suggestion_training.train(
        state.sessionmaker,
        since=None,
        now=utcnow(),
        limit=settings.suggestion.train_limit,
        fitter=functools.partial(state.clustering.run, suggestion_training.fit_and_dump),
    )
    log.info("suggestion model %d trained on %d tickets", trained.version, trained.ticket_count)


async def _detect(state: Any) -> None:
    result = await hotspots.detect(state.sessionmaker, now=utcnow(), finder=state.clustering.find)
    if result.created or result.updated:
        log.info("hot spots: %d new, %d updated", result.created, result.updated)
