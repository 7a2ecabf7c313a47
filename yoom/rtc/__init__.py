"""Signaling for Yoom's built-in (local) video: a transport-agnostic hub, see docs/rtc-protocol.md."""

from yoom.rtc.hub import CLOSE_CALL_ENDED, CLOSE_CODES, Hub, Peer, RoomFull, error_frame, get_hub, set_hub

__all__ = ["CLOSE_CALL_ENDED", "CLOSE_CODES", "Hub", "Peer", "RoomFull", "error_frame", "get_hub", "set_hub"]
