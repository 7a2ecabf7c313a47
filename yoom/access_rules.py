"""Who may do what in a meeting, and who may come in: pure rules (no Reflex, no database).

One table, PERMISSIONS, says which role may take which action; every handler, route and socket asks
`may(role, action)` (through `role_of`) instead of repeating the rule. Who may join is the meeting's own
choice (`Access`): anyone with the link (guests too), signed-in people only, or invite-only; and,
independently, "ask to join" (a lobby the host and co-hosts let people in from). `entry` decides where a
person stands: in, in the lobby, or refused with a reason (yoom/admission.py keeps the lobby's answers).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from yoom.video.base import CallKind, Meeting


class WhoMayJoin(StrEnum):
    ANYONE = "anyone"  # anyone with the link, guests without an account included
    SIGNED_IN = "signed_in"  # people with a Yoom account
    INVITE_ONLY = "invite_only"  # the host and the people invited

    @property
    def label(self) -> str:
        return {
            "anyone": "Anyone with the link (guests too)",
            "signed_in": "Signed-in people only",
            "invite_only": "Invited people only",
        }[self.value]


@dataclass(frozen=True)
class Access:
    who_may_join: WhoMayJoin
    ask_to_join: bool

    @property
    def allows_guests(self) -> bool:
        return self.who_may_join is WhoMayJoin.ANYONE

    @property
    def summary(self) -> str:
        """What the meeting's card and the room say about it."""
        return self.who_may_join.label + (" · ask to join" if self.ask_to_join else "")


def default_access(kind: CallKind, invite_only: bool = False) -> Access:
    """Instant and scheduled meetings: signed-in people, no lobby; the personal room: ask to join."""
    if invite_only:
        return Access(WhoMayJoin.INVITE_ONLY, False)
    return Access(WhoMayJoin.SIGNED_IN, kind is CallKind.PERSONAL)


def parse_access(who_may_join: object, ask_to_join: object) -> Access | None:
    """An `Access` from what a browser sent, or None when it isn't one."""
    if not isinstance(who_may_join, str) or who_may_join not in WhoMayJoin._value2member_map_:
        return None
    if not isinstance(ask_to_join, bool):
        return None
    return Access(WhoMayJoin(who_may_join), ask_to_join)


def check_access_change(meeting: Meeting, access: Access) -> str | None:
    """Why the host can't give `meeting` this access (words for the page), or None when they can.

    An invite-only meeting was made on a closed list (on Stream, a call type only members may join): it
    stays invite-only. A personal room is open to anyone with its link, so it can't become invite-only."""
    if meeting.invite_only and access.who_may_join is not WhoMayJoin.INVITE_ONLY:
        return "An invite-only meeting stays invite-only: invite people to it instead."
    if meeting.kind is CallKind.PERSONAL and access.who_may_join is WhoMayJoin.INVITE_ONLY:
        return "A personal room is open to anyone with its link; turn on “Ask to join” to choose who comes in."
    return None


class Role(StrEnum):
    HOST = "host"
    CO_HOST = "co-host"
    INVITEE = "invitee"
    SIGNED_IN = "signed-in"  # an account, neither host, co-host nor invited
    GUEST = "guest"  # no account: one meeting, by its link


class Action(StrEnum):
    SKIP_LOBBY = "skip the lobby"
    ADMIT = "let people in from the lobby, or turn them away"
    REMOVE = "remove someone from the meeting"
    MUTE_ALL = "ask everyone to mute"
    MAKE_CO_HOST = "make someone co-host"
    CHANGE_ACCESS = "change who may join"
    END_FOR_EVERYONE = "end the meeting for everyone"
    RECORD = "record the meeting"
    TAKE_PART = "chat, raise a hand, react"
    USE_YOOM = "see meeting lists, create meetings, watch recordings"


_ALL = frozenset(Role)
_HOSTS = frozenset({Role.HOST, Role.CO_HOST})
_MEMBERS = frozenset({Role.HOST, Role.CO_HOST, Role.INVITEE, Role.SIGNED_IN})

# Who may do what. The README's table is this one.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.SKIP_LOBBY: frozenset({Role.HOST, Role.CO_HOST, Role.INVITEE}),
    Action.ADMIT: _HOSTS,
    Action.REMOVE: frozenset({Role.HOST}),
    Action.MUTE_ALL: _HOSTS,
    Action.MAKE_CO_HOST: frozenset({Role.HOST}),
    Action.CHANGE_ACCESS: frozenset({Role.HOST}),
    Action.END_FOR_EVERYONE: frozenset({Role.HOST}),
    Action.RECORD: frozenset({Role.HOST}),
    Action.TAKE_PART: _ALL,
    Action.USE_YOOM: _MEMBERS,
}


def may(role: Role, action: Action) -> bool:
    return role in PERMISSIONS[action]


def role_of(meeting: Meeting, person_id: str, *, is_guest: bool, co_hosts: Collection[str] = ()) -> Role:
    """A guest is only ever a guest, whatever id they claim."""
    if is_guest:
        return Role.GUEST
    if person_id == meeting.created_by:
        return Role.HOST
    if person_id in co_hosts:
        return Role.CO_HOST
    if person_id in meeting.members:
        return Role.INVITEE
    return Role.SIGNED_IN


class Entry(StrEnum):
    IN = "in"  # may go to the setup screen and join
    SIGN_IN = "sign-in"  # a guest (or someone signed out) at a meeting for signed-in people
    NOT_ALLOWED = "not-allowed"  # invite-only and not invited
    LOBBY = "lobby"  # must ask, or is waiting for the answer
    DENIED = "denied"  # asked and was turned away


def entry(access: Access, role: Role, knock_status: str | None = None) -> Entry:
    """Where a person stands at a meeting's door (ended, removed and the join window are meeting_rules').

    `knock_status` is their lobby answer so far (yoom.admission.Status) or None."""
    if role is Role.HOST:
        return Entry.IN
    if access.who_may_join is WhoMayJoin.INVITE_ONLY and role not in (Role.CO_HOST, Role.INVITEE):
        return Entry.SIGN_IN if role is Role.GUEST else Entry.NOT_ALLOWED
    if access.who_may_join is WhoMayJoin.SIGNED_IN and role is Role.GUEST:
        return Entry.SIGN_IN
    if not access.ask_to_join or may(role, Action.SKIP_LOBBY):
        return Entry.IN
    if knock_status == "admitted":
        return Entry.IN
    if knock_status == "denied":
        return Entry.DENIED
    return Entry.LOBBY
