"""The event-loop lag monitor (yoom/loop_monitor.py): what it records and how it summarises it."""

from __future__ import annotations

import asyncio
import time

import pytest

from yoom.loop_monitor import LoopLagMonitor, percentile


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_percentiles_are_nearest_rank():
    values = sorted(float(v) for v in range(1, 101))
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([], 99) == 0.0


def test_a_snapshot_summarises_the_window_in_milliseconds():
    clock = Clock()
    monitor = LoopLagMonitor(tick=0.05, window=60, clock=clock)
    for i in range(100):
        clock.now += 0.05
        monitor.record(clock.now, 0.001 if i != 42 else 0.250)
    summary = monitor.snapshot()
    assert summary["samples"] == 100
    assert summary["max_ms"] == 250.0
    assert summary["p50_ms"] == 1.0
    assert summary["p99_ms"] == 1.0  # one slow tick in a hundred is the max, not the 99th percentile
    assert summary["window_seconds"] == 60


def test_old_samples_leave_the_window_and_a_narrower_window_can_be_asked_for():
    clock = Clock()
    monitor = LoopLagMonitor(tick=0.05, window=10, clock=clock)
    monitor.record(clock.now, 0.5)  # a stall, long ago
    clock.now += 20
    for _ in range(10):
        clock.now += 0.05
        monitor.record(clock.now, 0.002)
    assert monitor.snapshot()["max_ms"] == 2.0
    clock.now += 5
    monitor.record(clock.now, 0.040)
    assert monitor.snapshot(window=1)["samples"] == 1
    assert monitor.snapshot(window=1)["max_ms"] == 40.0
    assert monitor.snapshot(window=1000)["window_seconds"] == 10  # never wider than what it keeps


def test_negative_lateness_counts_as_none():
    monitor = LoopLagMonitor(clock=Clock())
    monitor.record(1000.0, -0.003)
    assert monitor.snapshot()["max_ms"] == 0.0


def test_an_empty_monitor_reports_zeros_and_no_last_tick():
    monitor = LoopLagMonitor(clock=Clock())
    assert monitor.last_sample_age() is None
    assert monitor.snapshot() == {
        "window_seconds": 60.0,
        "samples": 0,
        "max_ms": 0.0,
        "p50_ms": 0.0,
        "p90_ms": 0.0,
        "p99_ms": 0.0,
    }


@pytest.mark.parametrize("tick,window", [(0, 60), (0.05, 0), (-1, 60)])
def test_nonsense_settings_are_refused(tick, window):
    with pytest.raises(ValueError):
        LoopLagMonitor(tick=tick, window=window)


@pytest.mark.asyncio
async def test_a_blocked_loop_shows_up_as_lag():
    monitor = LoopLagMonitor(tick=0.01, window=60)
    task = asyncio.create_task(monitor.run())
    try:
        await asyncio.sleep(0.05)
        time.sleep(0.3)  # what a synchronous bcrypt hash or database call does to every other task
        await asyncio.sleep(0.05)
    finally:
        task.cancel()
    # The tick due during the blocking call woke at least the rest of those 0.3 s late.
    assert monitor.snapshot()["max_ms"] >= 250
    assert monitor.last_sample_age() is not None
