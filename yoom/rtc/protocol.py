"""The embedded provider's signaling vocabulary, defined once (docs/rtc-protocol.md).

Error codes, the WebSocket close code each fatal one ends with, and the words people read. The hub and
the `/api/rtc` route use these names; the browser gets the same table through the LocalCall wrapper's
`protocol` prop (`client_protocol()`), so a code or a message changes in this file only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from yoom.video.base import INVITE_ONLY_MESSAGE


class ErrorCode(StrEnum):
    """`code` of an `error` frame. The fatal ones end the socket with CLOSE_CODES[code]."""

    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"
    TIMEOUT = "timeout"
    ENDED = "ended"
    NOT_STARTED = "not-started"
    FULL = "full"
    REPLACED = "replaced"  # the same person joined again elsewhere: this socket makes way
    REMOVED = "removed"  # the host removed this person from the meeting
    NOT_ADMITTED = "not-admitted"  # a meeting with a lobby: the host hasn't let this person in (yet)
    BAD_MESSAGE = "bad-message"  # never fatal: the socket stays open


# WebSocket close codes. 4xxx mirror HTTP where one fits (4401 ~ 401 …).
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # the server dropped a socket that stopped reading
CLOSE_SERVER_ERROR = 1011
CLOSE_CALL_ENDED = 4000
CLOSE_CODES: dict[str, int] = {
    ErrorCode.UNAUTHORIZED: 4401,
    ErrorCode.FORBIDDEN: 4403,
    ErrorCode.NOT_FOUND: 4404,
    ErrorCode.TIMEOUT: 4408,
    ErrorCode.ENDED: 4410,
    ErrorCode.REPLACED: 4409,
    ErrorCode.NOT_STARTED: 4425,
    ErrorCode.FULL: 4429,
    ErrorCode.REMOVED: 4430,
    ErrorCode.NOT_ADMITTED: 4423,
}

# The refusals that mean "you may not be in this meeting now" (client_protocol's `shutOutCodes`).
SHUT_OUT = (ErrorCode.REMOVED, ErrorCode.NOT_ADMITTED, ErrorCode.FORBIDDEN)

# Why a peer left (`peer-left`'s `reason`).
PEER_LEFT_REASONS = ("left", "disconnected", "timeout", "replaced", "removed")

# What people read. Keys are specific reasons; several share an error code.
MESSAGES: dict[str, str] = {
    "no-token": "Sign in again to join this meeting (no meeting pass was sent).",
    "signed-out": "You signed out, so this meeting pass no longer works. Sign in again to join.",
    "not-started": "This meeting hasn't started yet. You can join 10 minutes before its start time.",
    "bad-token": "Your meeting pass has expired or isn't valid. Reload the page to join again.",
    "wrong-call": "Your meeting pass is for a different meeting.",
    "no-account": "Your account wasn't found. Sign in again.",
    "not-found": "That meeting doesn't exist. Check the link or meeting ID.",
    "not-local": "The built-in video isn't enabled on this server.",
    "ended": "This meeting has ended.",
    "room-closed": "This personal room is closed. It opens again when its owner starts it.",
    "full": "This meeting is full ({capacity} people). Try again when someone leaves.",
    "forbidden": INVITE_ONLY_MESSAGE,
    "timeout": "Lost contact with your browser. Rejoin the meeting.",
    "server-error": "Something went wrong with this meeting on Yoom's server. Try again.",
    "lost-connection": "Lost the connection to the meeting. Check your network and try again.",
    "replaced": "You joined this meeting from another tab or device, so you left it here.",
    "removed": "The host removed you from this meeting.",
    "not-admitted": "The host hasn't let you into this meeting yet. Ask to join from the meeting's page.",
    "denied": "The host didn't let you into this meeting.",
    "sign-in": "This meeting is for people with a Yoom account. Sign in to join.",
    "no-guest": "Your guest pass has expired. Open the meeting's link again to join.",
}

# What the browser shows when a socket closes with a fatal code but no error frame arrived first.
CLOSE_MESSAGES: dict[int, str] = {
    CLOSE_CODES[ErrorCode.UNAUTHORIZED]: MESSAGES["bad-token"],
    CLOSE_CODES[ErrorCode.FORBIDDEN]: MESSAGES["forbidden"],
    CLOSE_CODES[ErrorCode.NOT_FOUND]: MESSAGES["not-found"],
    CLOSE_CODES[ErrorCode.ENDED]: MESSAGES["ended"],
    CLOSE_CODES[ErrorCode.NOT_STARTED]: MESSAGES["not-started"],
    CLOSE_CODES[ErrorCode.FULL]: "This meeting is full. Try again when someone leaves.",
    CLOSE_CODES[ErrorCode.REPLACED]: MESSAGES["replaced"],
    CLOSE_CODES[ErrorCode.REMOVED]: MESSAGES["removed"],
    CLOSE_CODES[ErrorCode.NOT_ADMITTED]: MESSAGES["not-admitted"],
}


# The browser's word that this page is in a call (sessionStorage: the call id, only while the page lives and
# is joined). RoomState reads it when Reflex's event socket comes back (a server restart) and keeps the page
# in the call instead of sending it back to setup; a reload or a new tab starts from setup.
IN_CALL_KEY = "yoom_in_call"


def error_frame(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": str(code), "message": message}


def client_protocol() -> dict[str, Any]:
    """The part of this vocabulary the browser needs (the LocalCall wrapper's `protocol` prop).

    The browser decides by the close code, not the error frame: an `error` frame carries the words, and
    the close that follows it says whether the call is over (`closeMessages`: give up with those words;
    `callEndedCodes`: the ended screen; anything else: reconnect)."""
    return {
        "callEndedCodes": [CLOSE_CALL_ENDED, CLOSE_CODES[ErrorCode.ENDED]],
        "closeMessages": {str(number): text for number, text in CLOSE_MESSAGES.items()},
        # Yoom's door closed on this person (removed, not let in, not invited): where the room channel is
        # not the call itself (Stream), the page leaves the call too instead of only losing chat.
        "shutOutCodes": [CLOSE_CODES[code] for code in SHUT_OUT],
        "lostConnection": MESSAGES["lost-connection"],
        "inCallKey": IN_CALL_KEY,
    }
