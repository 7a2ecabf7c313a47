"""What Reflex's event socket reads (yoom/event_socket.py): valid text only, undecodable packets dropped,
and no session cookie in any log line."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

from yoom import event_socket
from yoom.event_socket import UNDECODABLE, redacted, valid_text


def test_lone_surrogates_become_replacement_characters_everywhere():
    data = json.loads('{"a\\ud800": ["x\\udfff", {"k": "\\ud83d\\ude00", "n": 1}], "ok": "fine"}')
    fixed = valid_text(data)
    assert fixed == {"a\ufffd": ["x\ufffd", {"k": "\U0001f600", "n": 1}], "ok": "fine"}
    json.dumps(fixed, ensure_ascii=False).encode("utf-8")  # now encodable


def test_valid_text_goes_as_deep_as_the_decoder_without_recursing():
    deep: list = ["\ud800"]
    for _ in range(100_000):
        deep = [deep]
    valid_text(deep)
    inner = deep
    while isinstance(inner, list) and isinstance(inner[0], list):
        inner = inner[0]
    assert inner == ["\ufffd"]


def test_the_socket_decoder_is_wrapped_once():
    class Packet:
        json = SimpleNamespace(dumps=json.dumps, loads=json.loads)

    sio = SimpleNamespace(packet_class=Packet)
    event_socket.install(sio)
    event_socket.install(sio)
    assert Packet.json.loads('["event", {"v": "a\\udc00b"}]') == ["event", {"v": "a\ufffdb"}]
    assert Packet.json.loads('["event", {"v": "caf\\u00e9"}]') == ["event", {"v": "café"}]
    # Not JSON, or deeper than the decoder goes: an event nobody handles, so Socket.IO drops it.
    assert Packet.json.loads('["event", {') == [UNDECODABLE]
    assert Packet.json.loads("[" * 100_000 + "]" * 100_000) == [UNDECODABLE]
    assert Packet.json.dumps is json.dumps


def test_session_cookies_never_reach_a_log_line(caplog):
    event_socket.redact_session_cookies()
    event_socket.redact_session_cookies()  # idempotent
    logger = logging.getLogger("reflex.test")
    with caplog.at_level(logging.INFO, logger="reflex.test"):
        logger.error("Error processing Event(headers={'cookie': 'a=1; yoom_session=SECRET123; b=2'})")
        logger.info("headers %s", {"cookie": "yoom_session=SECRET456"})
        logger.info("nothing to hide %d", 7)
    text = caplog.text
    assert "SECRET123" not in text and "SECRET456" not in text
    assert text.count("yoom_session=<redacted>") == 2
    assert "a=1" in text and "b=2" in text and "nothing to hide 7" in text


def test_redaction_keeps_the_rest():
    assert redacted("yoom_session=abc-DEF_123") == "yoom_session=<redacted>"
    assert redacted("x=1; yoom_session=abc; y=2") == "x=1; yoom_session=<redacted>; y=2"
    assert redacted("no cookie here") == "no cookie here"
