"""GET /api/health — is this process's event loop serving? For load balancers and benchmarks.

    GET /api/health[?window=SECONDS]
    → 200 {"ok": true, "loop_lag_ms": {"window_seconds", "samples", "max_ms", "p50_ms", "p90_ms", "p99_ms"},
           "last_tick_ms": …}
    → 503 with "ok": false when the lag monitor has stopped ticking, or the loop ran more than
      UNHEALTHY_LAG_SECONDS late in the last RECENT_SECONDS.

`loop_lag_ms` summarises how late the loop woke for its 50 ms ticks over the last `window` seconds
(default and at most 60; yoom/loop_monitor.py). No user data and no database query: the answer stays
cheap and honest while every worker thread is busy hashing passwords.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from yoom.loop_monitor import get_monitor

NO_STORE = {"Cache-Control": "no-store"}
RECENT_SECONDS = 10.0
UNHEALTHY_LAG_SECONDS = 1.0  # a tenth of the meetings' heartbeat: well before anyone is dropped
STALE_TICK_SECONDS = 2.0


def _window(request: Request) -> float | None:
    raw = request.query_params.get("window")
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and value > 0 and value == value else None  # NaN → default


def health_report(window: float | None = None) -> tuple[bool, dict]:
    monitor = get_monitor()
    age = monitor.last_sample_age()
    recent = monitor.snapshot(RECENT_SECONDS)
    ok = age is not None and age <= STALE_TICK_SECONDS and recent["max_ms"] <= UNHEALTHY_LAG_SECONDS * 1000
    body = {
        "ok": ok,
        "loop_lag_ms": monitor.snapshot(window),
        "last_tick_ms": round(age * 1000, 1) if age is not None else None,
    }
    return ok, body


async def health_endpoint(request: Request) -> JSONResponse:
    ok, body = health_report(_window(request))
    return JSONResponse(body, status_code=200 if ok else 503, headers=NO_STORE)


routes = [Route("/api/health", health_endpoint, methods=["GET"])]
