"""An embedded meeting forced through TURN: Debian's coturn on loopback, short-lived REST credentials.

coturn runs with `use-auth-secret` and a random `static-auth-secret`; Yoom gets the same secret
(YOOM_TURN_SECRET) and hands each browser its own `<expiry>:<user id>` credentials with its video token.
YOOM_ICE_TRANSPORT_POLICY=relay makes the browsers use relay candidates only, so a call that shows video
at all shows it through coturn; the test also reads the selected candidate pair from getStats and the
allocations from coturn's log. Tokens last one minute here, so a third person joins after the first
credentials have lapsed: the pages must have renewed them.
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
from tests.browser.helpers import new_account, sign_up
from tests.browser.test_local_meeting import (
    assert_video_flows_from,
    everyone_joins,
    join,
    open_setup,
    tile,
    wait_for_remote_video,
)

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


# Tokens (and so TURN credentials) that last one minute, the shortest allowed: a late joiner then arrives
# after everyone's first credentials have lapsed, which only works if pages renew them.
TOKEN_TTL_SECONDS = 60

# The expiry in this page's current TURN username ("<expiry>:<user id>"), from the token it holds.
TURN_EXPIRY = """() => {
  const token = window.__yoomCall && window.__yoomCall.signaling.token;
  const turn = ((token && token.ice_servers) || []).find((s) => /^[0-9]+:/.test(s.username || ''));
  return turn ? Number(turn.username.split(':')[0]) : 0;
}"""


@pytest.fixture
def turn_app_url(app_pool, turn_server) -> str:
    return app_pool.get(
        {
            "YOOM_TURN_URLS": turn_server.url,
            "YOOM_TURN_SECRET": turn_server.secret,
            "YOOM_ICE_TRANSPORT_POLICY": "relay",
            "VIDEO_TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS),
        }
    ).url


def assert_relayed(page, turn_server: TurnServer, peers: int) -> None:
    """Video arrives from everyone, and every connection sends it between two of coturn's relay candidates."""
    wait_for_remote_video(page, peers)
    assert_video_flows_from(page, peers=peers)
    page.wait_for_function(
        f"async () => (await ({SELECTED_PAIRS})()).every((p) => p.state === 'succeeded')", timeout=15_000
    )
    pairs = page.evaluate(SELECTED_PAIRS)
    assert len(pairs) == peers and all(p["local"] == "relay" and p["remote"] == "relay" for p in pairs), pairs
    assert all(p["url"] is None or f":{turn_server.port}" in p["url"] for p in pairs), pairs
    # The shared secret stays on the server: no page holds it.
    assert turn_server.secret not in page.content()


def allocations(turn_server: TurnServer) -> set[tuple[int, str]]:
    """(expiry, user id) of every username coturn granted an allocation to."""
    found = re.findall(r"user <(\d+):([^>]+)>: incoming packet ALLOCATE processed, success", turn_server.log())
    return {(int(expiry), user) for expiry, user in found}


def test_a_call_forced_through_coturn_with_short_lived_credentials_renewed_for_a_late_joiner(
    turn_app_url, turn_server, new_page
):
    started = time.time()
    host, guest, late = new_page(), new_page(), new_page()
    url = everyone_joins(turn_app_url, (host, "Tia Turn"), (guest, "Rex Relay"))
    sign_up(late, turn_app_url, new_account("Lee Late"))
    expect(tile(host, "Rex Relay")).to_be_visible(timeout=20_000)
    expect(tile(guest, "Tia Turn")).to_be_visible(timeout=20_000)
    for page in (host, guest):
        assert_relayed(page, turn_server, peers=1)

    # coturn granted each browser an allocation under its own username, expiring with its video token.
    first = allocations(turn_server)
    assert len({user for _, user in first}) == 2, turn_server.log()[-3000:]
    assert all(started < expiry <= time.time() + TOKEN_TTL_SECONDS + 1 for expiry, _ in first), first

    # Once the first credentials have lapsed, each page holds fresh ones, and a late joiner connects to
    # both through the relay with them.
    lapsed = max(expiry for expiry, _ in first)
    for page in (host, guest):
        page.wait_for_function(
            f"() => Date.now() / 1000 > {lapsed} + 1 && ({TURN_EXPIRY})() > {lapsed}",
            timeout=(TOKEN_TTL_SECONDS + 30) * 1000,
        )
        # The connection that is up takes the fresh credentials too, for an ICE restart.
        page.wait_for_function(
            f"""() => [...window.__yoomPeers.values()].every((pc) => pc.getConfiguration().iceServers
                .some((s) => Number((s.username || '').split(':')[0]) > {lapsed}))""",
            timeout=10_000,
        )
    open_setup(late, url)
    join(late)
    for page in (host, guest, late):
        expect(page.get_by_test_id("participant-tile")).to_have_count(3, timeout=20_000)
        assert_relayed(page, turn_server, peers=2)
    renewed = allocations(turn_server) - first
    assert len({user for _, user in renewed}) == 3 and all(expiry > lapsed for expiry, _ in renewed), renewed
