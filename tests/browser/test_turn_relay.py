"""An embedded meeting forced through TURN: Debian's coturn on loopback, short-lived REST credentials.

coturn runs with `use-auth-secret` and a random `static-auth-secret`; Yoom gets the same secret
(YOOM_TURN_SECRET) and hands each browser its own `<expiry>:<user id>` credentials with its video token.
YOOM_ICE_TRANSPORT_POLICY=relay makes the browsers use relay candidates only, so a call that shows video
at all shows it through coturn; the test also reads the selected candidate pair from getStats and the
allocations from coturn's log.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.harness import free_port
from tests.browser.helpers import new_account, sign_up, start_instant_meeting
from tests.browser.test_local_meeting import assert_video_flows_from, join, open_setup, tile, wait_for_remote_video

TURNSERVER = shutil.which("turnserver") or "/usr/sbin/turnserver"
REALM = "yoom.test"

# The pair each connection sends media on, and what kind its two ends are (host, srflx, prflx, relay).
SELECTED_PAIRS = """async () => {
  const out = [];
  for (const pc of (window.__yoomPeers || new Map()).values()) {
    const stats = await pc.getStats();
    let pair = null;
    stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId); });
    const local = pair && stats.get(pair.localCandidateId);
    const remote = pair && stats.get(pair.remoteCandidateId);
    out.push({
      state: pair ? pair.state : null,
      local: local ? local.candidateType : null,
      remote: remote ? remote.candidateType : null,
      relayProtocol: local ? local.relayProtocol || null : null,
      url: local ? local.url || null : null,
    });
  }
  return out;
}"""


@dataclass
class TurnServer:
    port: int
    secret: str
    log_path: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def _free_udp_and_tcp_port() -> int:
    """coturn listens on both: a port free for TCP may still be taken for UDP."""
    for _ in range(20):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port for coturn")


def _answers_stun(port: int) -> bool:
    """A STUN Binding request (RFC 5389) gets a Binding success response: coturn is serving."""
    transaction = secrets.token_bytes(12)
    request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(0.5)
        try:
            udp.sendto(request, ("127.0.0.1", port))
            reply, _ = udp.recvfrom(2048)
        except OSError:
            return False
    return reply[:2] == b"\x01\x01" and reply[8:20] == transaction


@pytest.fixture(scope="module")
def turn_server():
    if not os.path.exists(TURNSERVER):
        pytest.skip("turnserver (Debian's coturn) is not installed: `apt-get install coturn` (bash .ci/run does it)")
    folder = Path(tempfile.mkdtemp(prefix="yoom-turn-"))
    port, secret = _free_udp_and_tcp_port(), secrets.token_urlsafe(32)
    log_path = folder / "turn.log"
    process = subprocess.Popen(
        [
            TURNSERVER,
            "-n",  # no config file: everything is on this command line
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={port}",
            "--use-auth-secret",
            f"--static-auth-secret={secret}",
            f"--realm={REALM}",
            "--no-tls",
            "--no-dtls",
            "--allow-loopback-peers",  # both browsers' relay addresses are on 127.0.0.1
            "--no-cli",
            f"--userdb={folder / 'turndb'}",
            f"--pidfile={folder / 'turnserver.pid'}",
            f"--log-file={log_path}",
            "--simple-log",
            "--no-stdout-log",
            "--verbose",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = TurnServer(port, secret, log_path, process)
    try:
        deadline = time.monotonic() + 20
        while not _answers_stun(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"turnserver did not start (exit {process.poll()}):\n{server.log()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def turn_app_url(app_pool, turn_server) -> str:
    return app_pool.get(
        {
            "YOOM_TURN_URLS": turn_server.url,
            "YOOM_TURN_SECRET": turn_server.secret,
            "YOOM_ICE_TRANSPORT_POLICY": "relay",
        }
    ).url


def test_a_two_person_call_forced_through_coturn_with_short_lived_credentials(turn_app_url, turn_server, new_page):
    host, guest = new_page(), new_page()
    sign_up(host, turn_app_url, new_account("Tia Turn"))
    sign_up(guest, turn_app_url, new_account("Rex Relay"))
    url = f"{turn_app_url}/meeting/{start_instant_meeting(host)}"
    for page in (host, guest):
        open_setup(page, url)
        join(page)
    expect(tile(host, "Rex Relay")).to_be_visible(timeout=20_000)
    expect(tile(guest, "Tia Turn")).to_be_visible(timeout=20_000)

    for page in (host, guest):
        wait_for_remote_video(page, 1)
        assert_video_flows_from(page, peers=1)
        # Media goes between two relay candidates: coturn's, on both ends.
        page.wait_for_function(
            f"async () => (await ({SELECTED_PAIRS})()).every((p) => p.state === 'succeeded')", timeout=15_000
        )
        pairs = page.evaluate(SELECTED_PAIRS)
        assert pairs and all(p["local"] == "relay" and p["remote"] == "relay" for p in pairs), pairs
        assert all(p["url"] is None or f":{turn_server.port}" in p["url"] for p in pairs), pairs
        # The shared secret stays on the server: no page holds it.
        assert turn_server.secret not in page.content()

    # coturn granted an allocation to each browser under its own time-limited username, and expiry is
    # the video token's (an hour by default), not a static account.
    log = turn_server.log()
    users = set(re.findall(r"user <(\d+):([^>]+)>: incoming packet ALLOCATE processed, success", log))
    assert len({user for _, user in users}) >= 2, log[-3000:]
    now = time.time()
    assert all(now + 3000 < int(expiry) <= now + 3700 for expiry, _ in users), users
