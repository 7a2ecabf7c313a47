"""How late the event loop runs: a task that sleeps a short tick and records by how much it wakes late.

One event loop serves every page's events and every meeting's signaling; anything that blocks it (a
synchronous bcrypt hash, a database call off `asyncio.to_thread`) delays all of them, and a stall past the
10 s heartbeat drops every participant of every meeting. The lateness of a short sleep is that delay:
~0 on a free loop, the length of the blocking call otherwise. `GET /api/health` reports it
(yoom/api/health.py); `benchmarks/loop_lag.py` reads it under load.

Plain Python: the clock is injectable and `record` / `snapshot` are usable without a running loop.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable

TICK_SECONDS = 0.05
WINDOW_SECONDS = 60.0
PERCENTILES = (50, 90, 99)


def percentile(sorted_values: list[float], pct: float) -> float:
    """The nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class LoopLagMonitor:
    """Keeps (time, lag) samples of the last `window` seconds; `snapshot()` summarises them."""

    def __init__(
        self,
        tick: float = TICK_SECONDS,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        if tick <= 0 or window <= 0:
            raise ValueError("tick and window must be positive")
        self.tick = tick
        self.window = window
        self._clock = clock
        # A tick is at least `tick` long, so the window never holds more samples than this.
        self._samples: deque[tuple[float, float]] = deque(maxlen=int(window / tick) + 2)
        self.started_at: float | None = None

    def record(self, when: float, lag: float) -> None:
        self._samples.append((when, max(0.0, lag)))
        self._forget_before(when - self.window)

    def _forget_before(self, cutoff: float) -> None:
        while self._samples and self._samples[0][0] < cutoff:
            self._samples.popleft()

    async def run(self) -> None:
        """Tick forever (until cancelled), recording how late each wake-up is."""
        self.started_at = self._clock()
        while True:
            due = self._clock() + self.tick
            await asyncio.sleep(self.tick)
            now = self._clock()
            self.record(now, now - due)

    def last_sample_age(self) -> float | None:
        """Seconds since the last tick (None before the first)."""
        return self._clock() - self._samples[-1][0] if self._samples else None

    def snapshot(self, window: float | None = None) -> dict[str, float | int]:
        """Lag over the last `window` seconds (at most the monitor's own): samples, max, percentiles, in ms."""
        span = self.window if window is None else min(max(window, self.tick), self.window)
        cutoff = self._clock() - span
        lags = sorted(lag for when, lag in self._samples if when >= cutoff)
        summary: dict[str, float | int] = {"window_seconds": round(span, 3), "samples": len(lags)}
        summary["max_ms"] = round(lags[-1] * 1000, 2) if lags else 0.0
        for pct in PERCENTILES:
            summary[f"p{pct}_ms"] = round(percentile(lags, pct) * 1000, 2)
        return summary


_monitor = LoopLagMonitor()


def get_monitor() -> LoopLagMonitor:
    """The process's monitor (its task is started by the app's lifespan in yoom/yoom.py)."""
    return _monitor
