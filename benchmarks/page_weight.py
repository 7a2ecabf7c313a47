"""What each page downloads, and how soon it shows something: a production build in real Chromium.

Builds and serves Yoom in production mode (tests/browser/harness.py: temp database, free port), signs a
person up, and loads each route in a fresh Chromium context with the cache off (CDP
`Network.setCacheDisabled`). Per route it prints JavaScript and CSS bytes over the wire (response bodies as served: the
production server sends the gzip files Reflex builds; a response sent uncompressed is counted at its gzip
size and marked `*`) and raw, the number of files, the time from navigation to the page's first meaningful
element, and the five largest JavaScript chunks with the packages they hold (read from source maps the
benchmark's build writes beside the chunks, "hidden": the pages never reference or download them).

    .venv/bin/python benchmarks/page_weight.py [--runs 3] [--stream]

`--stream` also measures the Stream meeting page (a second build, against tests/fakestream).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.harness import RunningApp, start_app
from tests.browser.helpers import new_account, sign_up, start_instant_meeting

# route label → (path, CSS selector of the first element that makes the page useful)
FIRST_ELEMENT = {
    "sign-in": ("/sign-in", 'form button[type="submit"]'),
    "sign-up": ("/sign-up", 'form button[type="submit"]'),
    "home": ("/", '[data-testid="clock-time"]'),
    "upcoming": ("/upcoming", "h1"),
    "previous": ("/previous", "h1"),
    "recordings": ("/recordings", "h1"),
    "personal-room": ("/personal-room", "h1"),
    "meeting (embedded)": (None, '[data-testid="join-meeting"]'),
}
SIGNED_OUT = {"sign-in", "sign-up"}

# Resolves at the first animation frame where the element is on screen with text in it.
VISIBLE_AT = """
(selector) => {
  const e = document.querySelector(selector);
  if (!e || !e.getClientRects().length || !(e.textContent || '').trim()) return false;
  return performance.now();
}
"""


@dataclass
class Load:
    files: dict[str, dict] = field(default_factory=dict)  # url → {kind, wire, raw, compressed}
    first_element_ms: float = 0.0

    def total(self, kind: str, key: str) -> int:
        return sum(f[key] for f in self.files.values() if f["kind"] == kind)

    def count(self, kind: str) -> int:
        return sum(1 for f in self.files.values() if f["kind"] == kind)


def kind_of(url: str, mime: str) -> str | None:
    path = urlparse(url).path
    if path.endswith((".js", ".mjs", ".jsx")) or "javascript" in mime:
        return "js"
    if path.endswith(".css") or "text/css" in mime:
        return "css"
    return None


def load_once(browser, storage_state, url: str, selector: str) -> Load:
    context = browser.new_context(storage_state=storage_state, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    responses: dict[str, dict] = {}
    load = Load()

    def on_response(event):
        r = event["response"]
        kind = kind_of(r["url"], r.get("mimeType", ""))
        if kind and r["url"].startswith("http"):
            headers = {k.lower(): v for k, v in r.get("headers", {}).items()}
            responses[event["requestId"]] = {
                "url": r["url"],
                "kind": kind,
                "encoding": headers.get("content-encoding", ""),
                # Bytes received by the time the headers are in: taken off the total, which leaves the body.
                "headers": r.get("encodedDataLength", 0),
            }

    def on_finished(event):
        if event["requestId"] in responses:
            r = responses[event["requestId"]]
            r["wire"] = event["encodedDataLength"] - r["headers"]

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    page.goto(url, wait_until="commit")
    load.first_element_ms = page.wait_for_function(VISIBLE_AT, arg=selector, polling="raf", timeout=30_000).json_value()
    page.wait_for_load_state("networkidle")
    for request_id, r in responses.items():
        if "wire" not in r:
            continue
        body = cdp.send("Network.getResponseBody", {"requestId": request_id})
        raw = body["body"].encode() if not body.get("base64Encoded") else __import__("base64").b64decode(body["body"])
        compressed = bool(r["encoding"])
        load.files[r["url"]] = {
            "kind": r["kind"],
            "raw": len(raw),
            "wire": r["wire"] if compressed else len(gzip.compress(raw, 9)),
            "compressed": compressed,
        }
    context.close()
    return load


# ---- what a chunk holds -------------------------------------------------------------------------


def package_of(source: str) -> str:
    """`../node_modules/@radix-ui/themes/dist/esm/x.js` → `@radix-ui/themes`; app code → its folder."""
    match = re.search(r"node_modules/((?:@[^/]+/)?[^/]+)", source)
    if match:
        return match.group(1)
    source = re.sub(r"^(\.\./)+", "", source)
    parts = source.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else source


def chunk_contents(build_dir: Path, url: str, limit: int = 3) -> str:
    map_path = build_dir / (urlparse(url).path.lstrip("/") + ".map")
    if not map_path.exists():
        return "(no source map)"
    data = json.loads(map_path.read_text())
    sizes: dict[str, int] = defaultdict(int)
    for source, content in zip(data.get("sources", []), data.get("sourcesContent") or [], strict=False):
        sizes[package_of(source)] += len(content or "")
    total = sum(sizes.values()) or 1
    top = sorted(sizes.items(), key=lambda kv: -kv[1])[:limit]
    return ", ".join(f"{name} {100 * size // total}%" for name, size in top)


# ---- the table ----------------------------------------------------------------------------------


def kb(n: float) -> str:
    return f"{n / 1000:.1f}"


def report(label: str, loads: list[Load], build_dir: Path, chunks_shown: int = 5) -> str:
    first = loads[0]
    lines = [
        f"## {label}",
        f"  JS : {kb(first.total('js', 'wire')):>7} kB gzip  {kb(first.total('js', 'raw')):>7} kB raw  "
        f"{first.count('js'):>3} files",
        f"  CSS: {kb(first.total('css', 'wire')):>7} kB gzip  {kb(first.total('css', 'raw')):>7} kB raw  "
        f"{first.count('css'):>3} files",
        f"  first meaningful element: median {statistics.median(x.first_element_ms for x in loads):.0f} ms "
        f"(runs: {', '.join(f'{x.first_element_ms:.0f}' for x in loads)})",
        f"  largest JS chunks (gzip / raw kB: what they hold{'' if chunks_shown == 5 else ', all'}):",
    ]
    chunks = sorted(((u, f) for u, f in first.files.items() if f["kind"] == "js"), key=lambda uf: -uf[1]["wire"])
    for url, f in chunks[:chunks_shown]:
        mark = "" if f["compressed"] else "*"
        name = urlparse(url).path.rsplit("/", 1)[-1]
        lines.append(f"    {kb(f['wire']):>6}{mark} / {kb(f['raw']):>6}  {name}: {chunk_contents(build_dir, url)}")
    if any(not f["compressed"] for f in first.files.values()):
        lines.append("  * sent uncompressed: counted at its gzip -9 size")
    return "\n".join(lines)


def measure(
    app: RunningApp, browser, runs: int, routes: dict[str, tuple[str | None, str]], chunks_shown: int = 5
) -> list[str]:
    build_dir = app.data_dir / "web" / "build" / "client"
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app.url, new_account("Page Weight"))
    meeting_path = None
    if any(path is None for path, _ in routes.values()):
        meeting_path = "/meeting/" + start_instant_meeting(page)
        expect(page.get_by_test_id("join-meeting")).to_be_visible(timeout=30_000)
    storage = context.storage_state()
    context.close()
    out = []
    for label, (path, selector) in routes.items():
        url = app.url + (path or meeting_path)
        state = None if label in SIGNED_OUT else storage
        loads = [load_once(browser, state, url, selector) for _ in range(runs)]
        out.append(report(label, loads, build_dir, chunks_shown))
        print(out[-1], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold loads per route (the time is their median)")
    parser.add_argument("--stream", action="store_true", help="also measure the Stream meeting page")
    parser.add_argument("--all-chunks", action="store_true", help="list every JS file, not the five largest")
    args = parser.parse_args()
    sections = []
    # Hidden source maps: written beside the chunks for this table, never referenced by them.
    build_env = {"VITE_SOURCEMAP": "hidden"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        app = start_app(build_env)
        try:
            sections += measure(app, browser, args.runs, FIRST_ELEMENT, 1000 if args.all_chunks else 5)
        finally:
            app.stop()
        if args.stream:
            from tests.browser.fake_stream_client import FakeStreamClientAPI
            from tests.fakestream import FakeStream

            server = FakeStream().start()
            client = FakeStreamClientAPI(server).start()
            stream = {
                "VIDEO_PROVIDER": "stream",
                "STREAM_API_KEY": server.api_key,
                "STREAM_API_SECRET": server.api_secret,
                "STREAM_BASE_URL": server.base_url,
                "STREAM_CLIENT_BASE_URL": client.base_url,
            }
            app = start_app({**build_env, **stream})
            try:
                sections += measure(
                    app, browser, args.runs, {"meeting (Stream)": (None, '[data-testid="join-meeting"]')}
                )
            finally:
                app.stop()
                client.stop()
                server.stop()
        browser.close()
    print(f"\n(cold loads, cache off, localhost; {args.runs} runs per route)")


if __name__ == "__main__":
    main()
