"""GET /api/health: the event loop's lag, for load balancers and benchmarks; no user data."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from yoom.api import health
from yoom.loop_monitor import LoopLagMonitor


class Clock:
    now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monitor(monkeypatch):
    clock = Clock()
    made = LoopLagMonitor(tick=0.05, window=60, clock=clock)
    made.clock = clock
    monkeypatch.setattr(health, "get_monitor", lambda: made)
    return made


@pytest.fixture
def client():
    with TestClient(Starlette(routes=health.routes)) as made:
        yield made


def tick(monitor, seconds: float, lag: float = 0.001) -> None:
    end = monitor.clock.now + seconds
    while monitor.clock.now < end:
        monitor.clock.now += 0.05
        monitor.record(monitor.clock.now, lag)


def test_a_free_loop_is_ok_with_its_lag_summary(monitor, client):
    tick(monitor, 30)
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["ok"] is True
    assert set(body) == {"ok", "loop_lag_ms", "last_tick_ms"}  # nothing about anyone
    assert body["loop_lag_ms"]["max_ms"] == 1.0 and body["loop_lag_ms"]["samples"] > 500
    assert set(body["loop_lag_ms"]) == {"window_seconds", "samples", "max_ms", "p50_ms", "p90_ms", "p99_ms"}


def test_the_window_can_be_narrowed_and_junk_is_ignored(monitor, client):
    tick(monitor, 30)
    tick(monitor, 1, lag=0.030)
    assert client.get("/api/health?window=0.5").json()["loop_lag_ms"]["p50_ms"] == 30.0
    for junk in ("abc", "-5", "nan", "inf", "1e999", "", "0"):
        response = client.get(f"/api/health?window={junk}")
        assert response.status_code == 200 and response.json()["loop_lag_ms"]["window_seconds"] in (60.0, 0.05)


def test_a_recent_stall_makes_it_unhealthy_until_it_passes(monitor, client):
    tick(monitor, 5)
    monitor.clock.now += 1.5
    monitor.record(monitor.clock.now, 1.5)  # the loop was blocked for a second and a half
    tick(monitor, 1)
    stalled = client.get("/api/health")
    assert stalled.status_code == 503 and stalled.json()["ok"] is False
    tick(monitor, 11)
    assert client.get("/api/health").json()["ok"] is True


def test_a_monitor_that_stopped_ticking_is_unhealthy(monitor, client):
    assert client.get("/api/health").status_code == 503  # never ticked
    tick(monitor, 2)
    monitor.clock.now += 5  # no tick for five seconds: the loop (or the monitor) is stuck
    assert client.get("/api/health").status_code == 503
