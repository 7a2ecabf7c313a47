"""What Reflex's event socket reads is made valid text before any state sees it.

JSON may spell a lone UTF-16 surrogate (`"\\ud800"`), which decodes to a Python string that no UTF-8 frame,
database or password hash accepts. Browsers never send one, but a hand-made event could: kept in a page's
state (a form field, the router's query), it made every later update of that page fail to send, so the
page could never load again, and a password holding one failed inside sign-in. The socket's JSON decoder
is wrapped so that every lone surrogate, in any string or key of a packet, becomes U+FFFD.

A packet that doesn't decode at all (not JSON, or nested deeper than the decoder goes) is dropped with one
line in the log, where Socket.IO would log a traceback for each: a client can't flood the log with them.

The socket's request headers, the session cookie among them, ride in every event's router data, and
Reflex prints a whole event when it can't process one (an unknown handler, say): `redact_session_cookies`
makes every log record show `yoom_session=<redacted>` instead of the token.
"""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace
from typing import Any

log = logging.getLogger(__name__)

# What an undecodable packet decodes to: an event no namespace handles, which Socket.IO drops.
UNDECODABLE = "yoom-undecodable-packet"
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
REPLACEMENT = "\ufffd"


def _fixed(text: str) -> str:
    return LONE_SURROGATE.sub(REPLACEMENT, text)


def valid_text(value: Any) -> Any:
    """`value` (decoded JSON) with every lone surrogate in its strings and keys replaced by U+FFFD.
    Lists and dicts are fixed in place, without recursion (any depth the decoder accepted)."""
    if isinstance(value, str):
        return _fixed(value)
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            for index, element in enumerate(item):
                if isinstance(element, str):
                    item[index] = _fixed(element)
                elif isinstance(element, (list, dict)):
                    pending.append(element)
        elif isinstance(item, dict):
            for key in list(item):
                element = item[key]
                if isinstance(element, str):
                    element = _fixed(element)
                elif isinstance(element, (list, dict)):
                    pending.append(element)
                fixed_key = _fixed(key) if isinstance(key, str) else key
                if fixed_key != key:
                    del item[key]
                item[fixed_key] = element
    return value


SESSION_COOKIE_VALUE = re.compile(r"(yoom_session=)[^;,'\"\s]+")


def redacted(text: str) -> str:
    return SESSION_COOKIE_VALUE.sub(r"\1<redacted>", text)


def redact_session_cookies() -> None:
    """Make every log record of this process print session cookies as `yoom_session=<redacted>`.

    At record creation (a record factory), so it holds for every logger and handler, including the ones
    Reflex and Granian set up later."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "yoom_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            if record.args:
                message = record.getMessage()
            elif isinstance(record.msg, str):
                message = record.msg
            else:
                return record
        except Exception:  # a record whose arguments don't format: logging reports it itself
            return record
        if "yoom_session=" in message:
            record.msg, record.args = redacted(message), ()
        return record

    factory.yoom_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def install(sio: Any) -> None:
    """Wrap the Socket.IO server's packet decoder (`sio.packet_class.json.loads`) with `valid_text`."""
    codec = sio.packet_class.json
    if getattr(codec, "yoom_valid_text", False):
        return

    def loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            data = codec.loads(text, *args, **kwargs)
        except (ValueError, RecursionError) as exc:
            log.info("dropped an event-socket packet that isn't valid JSON (%s)", type(exc).__name__)
            return [UNDECODABLE]
        # Only JSON escapes can produce a surrogate (a WebSocket text frame is valid UTF-8): one search of
        # the text, and the walk only for the rare packet that has one.
        if isinstance(text, str) and _ESCAPED_SURROGATE.search(text):
            data = valid_text(data)
        return data

    sio.packet_class.json = SimpleNamespace(dumps=codec.dumps, loads=loads, yoom_valid_text=True)
