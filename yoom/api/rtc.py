"""`/api/rtc/{call_id}`: the room channel (docs/rtc-protocol.md), one for both video providers.

On the embedded provider it carries the WebRTC signaling of the mesh; on Stream the meeting page opens it
too, for chat, hands, reactions and app messages only (yoom/rtc/room.py) — Stream carries the media. One
channel, so those features, their rules and their tests are written once.

Authenticated by a room token (from POST /api/video/token: `room_token`, signed with Yoom's own secret and
bound to the Yoom session `sid`; on the embedded provider it is the video token itself), sent as the
socket's first frame `{"type": "auth", "token": …}` — never in the URL; the user id comes from the token
only, and the session it was minted for must still be alive. The meeting is looked up with the provider in
use, and the meeting page's admission rules apply again here: invite-only, removed people, ended, the join
window. Every refusal is an `error` frame followed by the protocol's close code. Plain ASGI WebSocket use
through Starlette, so it runs the same under Granian and uvicorn.

On the embedded provider it also writes down who was in the call and when (yoom/attendance.py): a stay
opens when a person with a Yoom account is admitted and closes when their peer leaves, disconnects, times
out or the call ends (on Stream the meeting page writes it). Joining never makes someone a member.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketState

from yoom import accounts, attendance, guests, lobby, meeting_rules, moderation
from yoom.access_rules import Entry
from yoom.db import utcnow
from yoom.meeting_rules import Phase
from yoom.rtc.hub import Hub, Peer, RoomFull, get_hub
from yoom.rtc.protocol import CLOSE_CODES, CLOSE_SERVER_ERROR, MESSAGES, ErrorCode, error_frame
from yoom.rtc.room import features_of
from yoom.settings import get_settings
from yoom.video import get_provider, tokens
from yoom.video.base import CallEnded, CallKind, VideoError, VideoProvider, VideoUser, is_valid_call_id
from yoom.video.local_provider import LocalProvider
from yoom.video.tokens import TokenInvalid

log = logging.getLogger(__name__)

AUTH_TIMEOUT_SECONDS = 10.0
MAX_AUTH_FRAME = 8192
# People on one Stream meeting's room channel (it carries no media; the mesh's YOOM_ROOM_CAPACITY is for
# the embedded provider, whose every peer sends video to every other).
STREAM_ROOM_CAPACITY = 500


class WebSocketTransport:
    """The hub's view of a Starlette WebSocket: send a JSON frame, close with a code."""

    def __init__(self, websocket: WebSocket):
        self.websocket = websocket

    async def send(self, message: dict[str, Any]) -> None:
        # ASCII JSON: whatever text a peer relays (a lone UTF-16 surrogate, say) stays a valid frame.
        await self.websocket.send_text(json.dumps(message, separators=(",", ":")))

    async def close(self, code: int, reason: str = "") -> None:
        if self.websocket.application_state == WebSocketState.CONNECTED:
            await self.websocket.close(code, reason[:100])


async def _refuse(websocket: WebSocket, code: str, message: str) -> None:
    """A fatal error before joining: the error frame, then the close code. Never raises."""
    try:
        await websocket.send_text(json.dumps(error_frame(code, message)))
        await websocket.close(CLOSE_CODES[code], code)
    except Exception:  # the browser went away first
        pass


class _Refused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Admission:
    provider: VideoProvider
    call_id: str
    video_user: VideoUser
    registered: bool  # has a Yoom account (guests with only a call-scoped token may not)
    is_owner: bool
    capacity: int | None  # None: the hub's (the mesh's)
    chat_since: object  # datetime | None: where the chat history starts (yoom/chat.py's rule)


async def _read_token(websocket: WebSocket) -> str:
    """The video token: the socket's first frame `{"type": "auth", "token": …}` (not the URL, which ends
    up in access logs). Raises _Refused when none comes within AUTH_TIMEOUT_SECONDS."""
    try:
        message = await asyncio.wait_for(websocket.receive(), AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["no-token"]) from None
    text = message.get("text") if message.get("type") == "websocket.receive" else None
    try:
        frame = json.loads(text) if isinstance(text, str) and len(text) <= MAX_AUTH_FRAME else None
    except ValueError:
        frame = None
    token = frame.get("token") if isinstance(frame, dict) and frame.get("type") == "auth" else None
    if not isinstance(token, str) or not token:
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["no-token"])
    return token


async def _admit(websocket: WebSocket) -> _Admission:
    """Check the call and the token; raises _Refused with the protocol code."""
    call_id = websocket.path_params.get("call_id", "")
    if not is_valid_call_id(call_id):
        raise _Refused(ErrorCode.NOT_FOUND, MESSAGES["not-found"])
    provider = get_provider()
    local = isinstance(provider, LocalProvider)

    token = await _read_token(websocket)
    try:
        # Room tokens are signed with Yoom's own secret on both providers (the embedded provider's video
        # token is one): a Stream token, signed with Stream's secret, never opens this socket.
        if len(token) > 4096:
            raise TokenInvalid("token too long")
        claims = tokens.verify(get_settings().local_video_secret, token)
    except TokenInvalid:
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["bad-token"]) from None
    user_id: str = claims["user_id"]
    call_cids = claims.get("call_cids")
    is_guest = call_cids is not None
    if is_guest and not isinstance(call_cids, list):
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["wrong-call"])
    if not is_guest and not await asyncio.to_thread(accounts.session_alive, claims.get("sid")):
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["signed-out"])

    call = await provider.get_call(call_id)
    if is_guest and (call is None or call.cid not in call_cids):  # a guest's pass names its call's cid
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["wrong-call"])
    if call is None:
        raise _Refused(ErrorCode.NOT_FOUND, MESSAGES["not-found"])
    user = await asyncio.to_thread(accounts.get_user, user_id)
    if user is None and not is_guest:
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["no-account"])
    is_owner = user is not None and call.created_by == user.id
    if local and call.has_ended and call.kind is CallKind.PERSONAL and is_owner:
        try:
            # The owner walking into their current room opens it again (never a room whose link they reset).
            call = await provider.reopen_call(call_id, user_id)
        except CallEnded as ended:
            raise _Refused(ErrorCode.ENDED, ended.user_message) from None
    # The page's own rule, again at the socket: invite-only first (someone not invited learns nothing more),
    # then ended, then the scheduled start's join window.
    removed = not is_owner and await asyncio.to_thread(moderation.is_removed, call_id, user_id)
    decision = meeting_rules.room_phase(call, user_id, utcnow(), removed=removed)
    if decision.phase == Phase.NOT_ALLOWED:
        raise _Refused(ErrorCode.FORBIDDEN, MESSAGES["forbidden"])
    if decision.phase == Phase.REMOVED:
        raise _Refused(ErrorCode.REMOVED, MESSAGES["removed"])
    if decision.phase == Phase.ENDED:
        raise _Refused(ErrorCode.ENDED, MESSAGES["room-closed" if call.kind is CallKind.PERSONAL else "ended"])
    if decision.phase == Phase.NOT_STARTED:
        raise _Refused(ErrorCode.NOT_STARTED, MESSAGES["not-started"])
    guest = None
    if user is None:
        # Someone without an account is a guest of this one call, while their pass lasts (yoom/guests.py).
        guest = await asyncio.to_thread(guests.get, user_id)
        if guest is None or guest.call_id != call_id:
            raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["no-guest"])
    # Who may join and the lobby (yoom/access_rules.py): the token route refused this person a token
    # already; a token minted before the host changed the rule meets it here.
    at_door = await lobby.door(call, user_id, is_guest=guest is not None)
    if at_door.entry is Entry.NOT_ALLOWED:
        raise _Refused(ErrorCode.FORBIDDEN, MESSAGES["forbidden"])
    if at_door.entry is Entry.SIGN_IN:
        raise _Refused(ErrorCode.FORBIDDEN, MESSAGES["sign-in"])
    if at_door.entry is Entry.DENIED:
        raise _Refused(ErrorCode.NOT_ADMITTED, MESSAGES["denied"])
    if at_door.entry is Entry.LOBBY:
        raise _Refused(ErrorCode.NOT_ADMITTED, MESSAGES["not-admitted"])

    video_user = accounts.video_user(user) if user is not None else guests.video_user(guest)
    # A personal room is reused for unrelated meetings: its chat history starts at its current opening.
    chat_since = call.starts_at if call.kind is CallKind.PERSONAL else None
    capacity = None if local else STREAM_ROOM_CAPACITY
    return _Admission(provider, call_id, video_user, user is not None, is_owner, capacity, chat_since)


async def _close_stay(stay_id: int) -> None:
    try:
        await asyncio.to_thread(attendance.close_stay, stay_id)
    except Exception:  # the next start closes it; until then it counts only up to its bound
        log.exception("rtc: could not close attendance %s", stay_id)


async def _keep_stay(admission: _Admission, peer: Peer) -> None:
    """Write down that this person is in the call from now, and close that the moment the hub lets the
    peer go (left, timed out, call ended, too slow): its writer stops then, even while the socket of a
    frozen browser still fails to answer the close."""
    try:
        stay_id = await asyncio.to_thread(
            attendance.open_stay, admission.call_id, admission.video_user.id, attendance.SOURCE_RTC
        )
    except Exception:
        log.exception("rtc: could not write the attendance of %s in %s", admission.video_user.id, admission.call_id)
        return
    if peer.writer is not None:
        await asyncio.wait({peer.writer})
    await _close_stay(stay_id)


# Stays are kept by tasks of their own, not the connection's: a connection torn down by cancellation, at
# any point, still closes the stay it opened.
_stay_keepers: set[asyncio.Task] = set()


def _start_stay(admission: _Admission, peer: Peer) -> None:
    if not admission.registered:  # a guest without an account: nobody to show recordings to
        return
    if not admission.provider.records_attendance:  # Stream: the meeting page writes it (yoom/state/room.py)
        return
    task = asyncio.create_task(_keep_stay(admission, peer), name=f"rtc-stay-{peer.peer_id}")
    _stay_keepers.add(task)
    task.add_done_callback(_stay_keepers.discard)


async def _after_join(admission: _Admission, hub: Hub, peer: Peer) -> None:
    provider, call_id = admission.provider, admission.call_id
    # end_call marks the database before it tells the hub: if it ended while we joined, say so now.
    fresh = await provider.get_call(call_id)
    if fresh is None or fresh.has_ended:
        await hub.refuse(peer, ErrorCode.ENDED, MESSAGES["ended"])


async def _pump(websocket: WebSocket, hub: Hub, peer: Peer) -> None:
    """Hand every frame to the hub until the socket drops or the hub lets the peer go."""
    while not peer.closed:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        await hub.handle_frame(peer, text if text is not None else message.get("bytes") or b"")


async def rtc_endpoint(websocket: WebSocket) -> None:
    try:
        await websocket.accept()
    except Exception:
        return
    hub = get_hub()
    peer: Peer | None = None
    close_code = 1000
    try:
        try:
            admission = await _admit(websocket)
        except _Refused as refused:
            await _refuse(websocket, refused.code, refused.message)
            return
        except VideoError as exc:  # Stream out of reach: not a refusal, the browser tries again
            log.warning("rtc: could not check meeting %s: %s", websocket.path_params.get("call_id"), exc)
            try:
                await websocket.send_text(json.dumps(error_frame("server-error", exc.user_message)))
            except Exception:
                pass
            close_code = CLOSE_SERVER_ERROR
            return
        transport = WebSocketTransport(websocket)
        try:
            # No await between joining and holding `peer`: whatever happens next, `finally` removes it.
            peer = await hub.join(
                admission.call_id,
                admission.video_user,
                transport,
                is_owner=admission.is_owner,
                capacity=admission.capacity,
            )
        except RoomFull as full:
            await _refuse(websocket, ErrorCode.FULL, MESSAGES["full"].format(capacity=full.capacity))
            return
        _start_stay(admission, peer)
        features = features_of(hub)
        if features is not None:  # it reads the chat so far when it asks (yoom/chat.py's rule)
            features.admitted(peer, admission.chat_since)
        await _after_join(admission, hub, peer)
        await _pump(websocket, hub, peer)
    except Exception:
        log.exception("rtc: connection to %s failed", websocket.url.path)
        close_code = CLOSE_SERVER_ERROR
    finally:
        if peer is not None:
            # No-op if it already left, timed out or the call ended; either way its stay closes now.
            await hub.leave(peer, "disconnected")
            await hub.wait_closed(peer)
        if (
            websocket.application_state == WebSocketState.CONNECTED
            and websocket.client_state == WebSocketState.CONNECTED
        ):
            try:
                await websocket.close(close_code, "server error" if close_code != 1000 else "")
            except Exception:
                pass


routes = [WebSocketRoute("/api/rtc/{call_id}", rtc_endpoint)]
