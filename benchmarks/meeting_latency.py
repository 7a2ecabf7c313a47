"""Embedded meetings in real Chromium: "Start Meeting" → setup screen, join → first remote video frame, and
CPU per participant in a mesh.

Starts Yoom in production mode (local provider, temp database) and drives Debian's Chromium with a fake
camera and microphone. Prints a table. Bounded: a fixed number of joins and a fixed sampling window.

    .venv/bin/python benchmarks/meeting_latency.py [--starts 5] [--joins 5] [--mesh 4] [--seconds 20]

(`--mesh 0` leaves out the mesh.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.harness import start_app
from tests.browser.helpers import new_account, sign_up, start_instant_meeting

FIRST_FRAME_JS = """
async () => {
  const t0 = performance.now();
  document.querySelector('[data-testid="join-meeting"]').click();
  return await new Promise((resolve, reject) => {
    const deadline = t0 + 20000;
    const poll = () => {
      const v = document.querySelector('[data-testid="remote-video"]');
      if (v && v.videoWidth > 0 && v.readyState >= 2) {
        if (v.requestVideoFrameCallback) {
          v.requestVideoFrameCallback(() => resolve(performance.now() - t0));
        } else resolve(performance.now() - t0);
        return;
      }
      if (performance.now() > deadline) return reject(new Error('no remote frame in 20 s'));
      requestAnimationFrame(poll);
    };
    poll();
  });
}
"""


# From Home with the New Meeting dialog open: click "Start Meeting", until the setup screen's Join button shows.
START_TO_SETUP_JS = """
async () => {
  const start = [...document.querySelectorAll('[role="dialog"] button')].find((b) => b.textContent.trim() === 'Start Meeting');
  const t0 = performance.now();
  start.click();
  return await new Promise((resolve, reject) => {
    const poll = () => {
      const join = document.querySelector('[data-testid="join-meeting"]');
      if (join && join.getClientRects().length) return resolve(performance.now() - t0);
      if (performance.now() - t0 > 20000) return reject(new Error('no setup screen in 20 s'));
      requestAnimationFrame(poll);
    };
    poll();
  });
}
"""


def join(page) -> None:
    page.get_by_test_id("join-meeting").click()
    page.get_by_role("button", name="Leave call").wait_for(timeout=20_000)


def chromium_cpu_seconds(browser_pid: int) -> float:
    total = 0.0
    try:
        root = psutil.Process(browser_pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        pass
    return total


def find_browser_pid() -> int:
    candidates = [
        p
        for p in psutil.process_iter(["name", "cmdline", "create_time"])
        if p.info["name"] and "chromium" in p.info["name"] and "--type=" not in " ".join(p.info["cmdline"] or [])
    ]
    return max(candidates, key=lambda p: p.info["create_time"]).pid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--joins", type=int, default=5)
    parser.add_argument("--mesh", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()

    app = start_app({})
    rows = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

            def ctx():
                return browser.new_context(
                    viewport={"width": 1100, "height": 700}, permissions=["camera", "microphone"]
                )

            host, guest = ctx().new_page(), ctx().new_page()
            sign_up(host, app.url, new_account("Host"))
            sign_up(guest, app.url, new_account("Guest"))
            starts = []
            for _ in range(args.starts):
                host.goto(f"{app.url}/")
                host.get_by_test_id("card-new").click()
                host.get_by_role("button", name="Start Meeting").wait_for(timeout=20_000)
                starts.append(host.evaluate(START_TO_SETUP_JS))
            if starts:
                rows.append(('click "Start Meeting" → setup screen, p50 (ms)', f"{statistics.median(starts):.0f}"))
                rows.append(('click "Start Meeting" → setup screen, max (ms)', f"{max(starts):.0f}"))
            host.goto(f"{app.url}/")
            meeting_id = start_instant_meeting(host)
            latencies = []
            for _ in range(args.joins):
                guest.goto(f"{app.url}/meeting/{meeting_id}")
                join(guest)
                host.goto(f"{app.url}/meeting/{meeting_id}")
                host.get_by_test_id("join-meeting").wait_for(timeout=20_000)
                latencies.append(host.evaluate(FIRST_FRAME_JS))
                for p in (host, guest):
                    p.get_by_role("button", name="Leave call").click()
                    p.wait_for_url(f"{app.url}/", timeout=20_000)
            rows.append(("join → first remote frame, p50 (ms)", f"{statistics.median(latencies):.0f}"))
            rows.append(("join → first remote frame, max (ms)", f"{max(latencies):.0f}"))
            for context in browser.contexts:
                context.close()

            if args.mesh >= 2:
                pages = []
                for i in range(args.mesh):
                    page = ctx().new_page()
                    sign_up(page, app.url, new_account(f"Person {i + 1}"))
                    pages.append(page)
                mesh_id = start_instant_meeting(pages[0])
                for page in pages:
                    page.goto(f"{app.url}/meeting/{mesh_id}")
                    join(page)
                for page in pages:
                    page.wait_for_function(
                        f"document.querySelectorAll('[data-testid=\"remote-video\"]').length >= {args.mesh - 1} && "
                        "[...document.querySelectorAll('[data-testid=\"remote-video\"]')].every(v => v.videoWidth > 0)",
                        timeout=30_000,
                    )
                browser_pid = find_browser_pid()
                server = psutil.Process(app.process.pid)
                server_procs = [server, *server.children(recursive=True)]

                def server_cpu():
                    return sum(p.cpu_times().user + p.cpu_times().system for p in server_procs if p.is_running())

                c0, s0, t0 = chromium_cpu_seconds(browser_pid), server_cpu(), time.monotonic()
                time.sleep(args.seconds)
                c1, s1, t1 = chromium_cpu_seconds(browser_pid), server_cpu(), time.monotonic()
                wall = t1 - t0
                rows.append(
                    (
                        f"{args.mesh}-person mesh: Chromium CPU per participant (% of one core)",
                        f"{100 * (c1 - c0) / wall / args.mesh:.0f}",
                    )
                )
                rows.append(
                    (f"{args.mesh}-person mesh: Yoom server CPU (% of one core)", f"{100 * (s1 - s0) / wall:.1f}")
                )
            browser.close()
    finally:
        app.stop()

    width = max(len(r[0]) for r in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"| {'-' * width} | ----- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
