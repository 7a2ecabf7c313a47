"""The door of a meeting, for every provider: who comes in, who waits in the lobby, and the host's lobby
and moderation actions (no Reflex import). The rules are yoom/access_rules.py's, the records
yoom/admission.py's; this module brings them together with the provider and the room channel's hub, so
the meeting page (yoom/state/room.py, yoom/state/lobby.py), the token route and `/api/rtc` decide alike.

The host and co-hosts hear of a knock in real time: an `app` frame named "lobby" on their room channel,
which only makes their page read the lobby again from the server (a forged one shows nothing new).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from yoom import admission, moderation
from yoom.access_rules import Access, Action, Entry, Role, entry, may, role_of
from yoom.video.base import InvalidRequest, Meeting, NotCallOwner, VideoProvider, is_valid_user_id

log = logging.getLogger(__name__)

LOBBY_MESSAGE = "lobby"  # the app message that tells hosts' pages to read the lobby again
MUTE_FRAME = {"type": "mute-request"}  # what the embedded engine obeys: its microphone off
_SYSTEM = {"peer_id": "", "user_id": "", "name": "Yoom", "is_host": False}


@dataclass(frozen=True)
class Door:
    role: Role
    access: Access
    entry: Entry
    knock_status: str | None = None


async def door(meeting: Meeting, person_id: str, *, is_guest: bool) -> Door:
    def read() -> Door:
        cohosts = admission.co_hosts(meeting.id)
        role = role_of(meeting, person_id, is_guest=is_guest, co_hosts=cohosts)
        access = admission.access_of(meeting)
        status = admission.status_of(meeting.id, person_id) if access.ask_to_join else None
        return Door(role, access, entry(access, role, status), status)

    return await asyncio.to_thread(read)


async def role(meeting: Meeting, person_id: str, *, is_guest: bool) -> Role:
    cohosts = await asyncio.to_thread(admission.co_hosts, meeting.id)
    return role_of(meeting, person_id, is_guest=is_guest, co_hosts=cohosts)


async def _require(meeting: Meeting, person_id: str, action: Action, *, is_guest: bool = False) -> Role:
    who = await role(meeting, person_id, is_guest=is_guest)
    if not may(who, action):
        raise NotCallOwner(f"{person_id} may not {action} in {meeting.id}", user_message=f"Only the host can {action}.")
    return who


def _hub():
    from yoom.rtc.hub import get_hub

    return get_hub()


async def host_present(meeting: Meeting) -> bool:
    """Whether the host or a co-host is in the call now (on the room channel)."""
    hosts = {meeting.created_by} | await asyncio.to_thread(admission.co_hosts, meeting.id)
    return any(m.user_id in hosts for m in await _hub().members(meeting.id))


async def tell_hosts(meeting: Meeting) -> None:
    """The host's and co-hosts' pages read the lobby again."""
    hosts = {meeting.created_by} | await asyncio.to_thread(admission.co_hosts, meeting.id)
    frame = {"type": "app", "name": LOBBY_MESSAGE, "from": _SYSTEM, "payload": None}
    hub = _hub()
    for member in await hub.members(meeting.id):
        if member.user_id in hosts:
            await hub.backplane.deliver(member, frame)


async def knock(meeting: Meeting, person_id: str, name: str, *, is_guest: bool) -> admission.Status:
    """Ask to join; raises admission.LobbyFull. The hosts hear of it at once."""
    status = await asyncio.to_thread(admission.knock, meeting.id, person_id, name, is_guest=is_guest)
    if status is admission.Status.PENDING:
        await tell_hosts(meeting)
    return status


async def decide(
    meeting: Meeting, by_user_id: str, user_id: str, admit: bool, provider: VideoProvider | None = None
) -> bool:
    """Admit or turn away a waiting person (the host or a co-host); False when nobody was waiting."""
    await _require(meeting, by_user_id, Action.ADMIT)
    if not isinstance(user_id, str) or not is_valid_user_id(user_id):
        return False
    if admit and await asyncio.to_thread(moderation.is_removed, meeting.id, user_id):
        # Someone removed, asking to come back: only the host lets them (the removal is the host's word).
        if provider is None:
            return False
        await provider.readmit(meeting.id, by_user_id, user_id)
    decided = await asyncio.to_thread(admission.decide, meeting.id, user_id, admit, by_user_id)
    if decided:
        await tell_hosts(meeting)  # every host's list loses them
    return decided


async def pending(meeting: Meeting, by_user_id: str) -> list[admission.Knock]:
    await _require(meeting, by_user_id, Action.ADMIT)
    return await asyncio.to_thread(admission.pending, meeting.id)


async def make_co_host(meeting: Meeting, by_user_id: str, user_id: str) -> None:
    from yoom import guests

    await _require(meeting, by_user_id, Action.MAKE_CO_HOST)
    if not isinstance(user_id, str) or not is_valid_user_id(user_id) or guests.is_guest_id(user_id):
        raise InvalidRequest(
            f"bad co-host {user_id!r}", user_message="Only someone with a Yoom account can be co-host."
        )
    if user_id == meeting.created_by:
        raise InvalidRequest("host as co-host", user_message="You're already the host.")
    await asyncio.to_thread(admission.make_co_host, meeting.id, user_id, by_user_id)
    await tell_hosts(meeting)


async def set_access(meeting: Meeting, by_user_id: str, access: Access) -> None:
    from yoom.access_rules import check_access_change

    await _require(meeting, by_user_id, Action.CHANGE_ACCESS)
    refusal = check_access_change(meeting, access)
    if refusal:
        raise InvalidRequest("access change refused", user_message=refusal)
    await asyncio.to_thread(admission.set_access, meeting.id, access, by_user_id)


async def mute_all(provider: VideoProvider, meeting: Meeting, by_user_id: str) -> int:
    """Ask everyone else to mute: the room channel's `mute-request` (the embedded engine turns its microphone
    off; so does the Stream bridge), and on Stream also Stream's own mute_users. Returns how many were asked."""
    await _require(meeting, by_user_id, Action.MUTE_ALL)
    hub = _hub()
    others = [m for m in await hub.members(meeting.id) if m.user_id != by_user_id]
    for member in others:
        await hub.backplane.deliver(member, MUTE_FRAME)
    await provider.mute_others(meeting, by_user_id, [m.user_id for m in others])
    return len(others)


async def refusal(meeting: Meeting | None, person_id: str, *, is_guest: bool) -> str | None:
    """Why this person gets no video token for the meeting now (words for them), or None: the meeting
    page's rule (meeting_rules.room_phase), then who may join and the lobby."""
    from yoom import meeting_rules, moderation
    from yoom.db import utcnow
    from yoom.meeting_rules import Phase
    from yoom.rtc.protocol import MESSAGES

    if meeting is None:
        return MESSAGES["not-found"]
    removed = meeting.created_by != person_id and await asyncio.to_thread(moderation.is_removed, meeting.id, person_id)
    phase = meeting_rules.room_phase(meeting, person_id, utcnow(), removed=removed).phase
    if phase is not Phase.SETUP:
        return {
            Phase.NOT_ALLOWED: MESSAGES["forbidden"],
            Phase.REMOVED: MESSAGES["removed"],
            Phase.ENDED: MESSAGES["ended"],
            Phase.NOT_STARTED: MESSAGES["not-started"],
        }.get(phase, MESSAGES["not-found"])
    at_door = await door(meeting, person_id, is_guest=is_guest)
    return {
        Entry.IN: None,
        Entry.NOT_ALLOWED: MESSAGES["forbidden"],
        Entry.SIGN_IN: MESSAGES["sign-in"],
        Entry.DENIED: MESSAGES["denied"],
        Entry.LOBBY: MESSAGES["not-admitted"],
    }[at_door.entry]


async def co_host_ids(meeting: Meeting) -> set[str]:
    return await asyncio.to_thread(admission.co_hosts, meeting.id)


async def members(meeting: Meeting) -> list:
    """Who is in the call now (the room channel's roster, every instance)."""
    return await _hub().members(meeting.id)
