"""Signaling for Yoom's built-in (local) video: a transport-agnostic hub, see docs/rtc-protocol.md."""

from yoom.rtc.hub import Hub, Peer, RoomFull, get_hub, set_hub
from yoom.rtc.protocol import CLOSE_CALL_ENDED, CLOSE_CODES, ErrorCode, error_frame

__all__ = [
    "CLOSE_CALL_ENDED",
    "CLOSE_CODES",
    "ErrorCode",
    "Hub",
    "Peer",
    "RoomFull",
    "error_frame",
    "get_hub",
    "set_hub",
]
