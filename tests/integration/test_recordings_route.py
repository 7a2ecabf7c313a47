"""POST /api/recordings and GET /api/recordings/{id} through Starlette's TestClient."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from tests.integration.local_helpers import make_user, provider, run
from yoom.accounts import video_user
from yoom.video.base import CallKind

WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + bytes(range(256)) * 40  # EBML header, then payload
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 40


@pytest.fixture
def people(local_env):
    return {name: make_user(name) for name in ("alice", "bob", "carol")}


@pytest.fixture
def call(client, people):
    """Alice's meeting; Bob is invited to it (a member)."""
    alice, bob = people["alice"][0], people["bob"][0]
    create = partial(provider().create_call, invitees=[video_user(bob)])
    return run(client, create, video_user(alice), CallKind.INSTANT)


@pytest.fixture
def carol_was_there(call, people):
    """Carol took part in the meeting for the last hour (Yoom's attendance, as the signaling writes it)."""
    from yoom import attendance

    carol = people["carol"][0]
    stay = attendance.open_stay(call.id, carol.id, attendance.SOURCE_RTC, at=datetime.now(UTC) - timedelta(hours=1))
    attendance.close_stay(stay)


def auth(people, name):
    return {"Authorization": f"Bearer {people[name][1]}"}


def times(minutes_ago: int = 10, length: int = 5):
    start = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return start.isoformat().replace("+00:00", "Z"), (start + timedelta(minutes=length)).isoformat().replace(
        "+00:00", "Z"
    )


def params(call_id, **overrides):
    started, ended = times()
    values = {"call_id": call_id, "started_at": started, "ended_at": ended}
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def make_session(user) -> str:
    from yoom.accounts import create_session

    return create_session(user.id)


def stored_files(local_env):
    folder = local_env / "recordings"
    return sorted(os.listdir(folder)) if folder.exists() else []


def upload(client, people, name, call_id, body=WEBM, content_type="video/webm", **overrides):
    headers = {"Content-Type": content_type, **(auth(people, name) if name else {})}
    return client.post("/api/recordings", params=params(call_id, **overrides), content=body, headers=headers)


# --- uploads ----------------------------------------------------------------------------------------


def test_host_uploads_and_it_lists_for_the_host_and_who_was_there(client, people, call, carol_was_there, local_env):
    started, ended = times(30, 20)
    response = upload(client, people, "alice", call.id, started_at=started, ended_at=ended)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["call_id"] == call.id and body["url"] == f"/api/recordings/{body['id']}"
    assert body["size_bytes"] == len(WEBM) and body["content_type"] == "video/webm"
    assert body["filename"].endswith(".webm") and call.id[:8] in body["filename"]
    assert datetime.fromisoformat(body["start_time"]) == datetime.fromisoformat(started.replace("Z", "+00:00"))
    assert stored_files(local_env) == [f"{body['id']}.webm"]  # the server chose the name
    assert (local_env / "recordings" / f"{body['id']}.webm").read_bytes() == WEBM

    alice, bob, carol = (people[n][0] for n in ("alice", "bob", "carol"))
    for person in (alice, carol):
        listed = run(client, provider().recordings, person.id).items
        assert [(r.id, r.url, r.filename) for r in listed] == [(body["id"], body["url"], body["filename"])]
    assert run(client, provider().recordings, bob.id).items == []  # invited, never there


def test_multipart_upload_of_an_mp4(client, people, call, local_env):
    response = client.post(
        "/api/recordings",
        params=params(call.id),
        files={"file": ("meeting.mp4", MP4, "video/mp4")},
        data={"note": "from the browser"},
        headers=auth(people, "alice"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "video/mp4" and body["size_bytes"] == len(MP4) and body["filename"].endswith(".mp4")
    assert (local_env / "recordings" / f"{body['id']}.mp4").read_bytes() == MP4


def test_only_the_host_may_upload(client, people, call, local_env):
    response = upload(client, people, "bob", call.id)  # bob is a member, not the host
    assert response.status_code == 403 and "host" in response.json()["error"]
    assert upload(client, people, "carol", call.id).status_code == 403
    assert stored_files(local_env) == []


def test_anonymous_upload_is_refused(client, people, call, local_env):
    response = upload(client, people, None, call.id)
    assert response.status_code == 401 and response.json()["error"]
    forged = client.post(
        "/api/recordings",
        params=params(call.id),
        content=WEBM,
        headers={"Content-Type": "video/webm", "Authorization": "Bearer not-a-session"},
    )
    assert forged.status_code == 401
    assert stored_files(local_env) == []


def test_too_large_is_refused_while_streaming(client, people, call, local_env, monkeypatch):
    from yoom.settings import get_settings

    monkeypatch.setenv("YOOM_RECORDING_MAX_MB", "1")
    get_settings.cache_clear()
    limit = 1024 * 1024
    big = WEBM[:9] + b"\0" * (limit - 9 + 1)
    response = upload(client, people, "alice", call.id, body=big)
    assert response.status_code == 413 and "1 MB" in response.json()["error"]

    def chunks():  # no Content-Length: the limit holds as bytes arrive
        yield WEBM[:9]
        for _ in range(20):
            yield b"\0" * (64 * 1024)

    streamed = client.post(
        "/api/recordings",
        params=params(call.id),
        content=chunks(),
        headers={"Content-Type": "video/webm", **auth(people, "alice")},
    )
    assert streamed.status_code == 413
    multipart = client.post(
        "/api/recordings",
        params=params(call.id),
        headers=auth(people, "alice"),
        files={"file": ("big.webm", big, "video/webm")},
    )
    assert multipart.status_code == 413
    assert stored_files(local_env) == []  # no partial file left behind
    exact = WEBM[:9] + b"\0" * (limit - 9)
    assert upload(client, people, "alice", call.id, body=exact).status_code == 201


def test_type_is_checked_by_header_and_magic_bytes(client, people, call, local_env):
    cases = [
        (b"hello, this is not a video at all", "video/webm"),
        (MP4, "video/webm"),  # header and content disagree
        (WEBM, "video/mp4"),
        (WEBM, "image/png"),
        (WEBM, "application/octet-stream"),
        (b"\x1a\x45", "video/webm"),  # too short to be a video
    ]
    for body, content_type in cases:
        response = upload(client, people, "alice", call.id, body=body, content_type=content_type)
        assert response.status_code == 415, (content_type, response.text)
        assert "WebM or MP4" in response.json()["error"]
    part = client.post(
        "/api/recordings",
        params=params(call.id),
        headers=auth(people, "alice"),
        files={"file": ("x.webm", b"<html>not a video</html>", "video/webm")},
    )
    assert part.status_code == 415
    text_part = client.post(
        "/api/recordings",
        params=params(call.id),
        headers=auth(people, "alice"),
        files={"file": ("x.txt", WEBM, "text/plain")},
    )
    assert text_part.status_code == 415
    assert stored_files(local_env) == []


def test_bad_parameters(client, people, call, local_env):
    started, ended = times()
    no_call = {k: v for k, v in params(call.id).items() if k != "call_id"}
    response = client.post(
        "/api/recordings", params=no_call, content=WEBM, headers={"Content-Type": "video/webm", **auth(people, "alice")}
    )
    assert response.status_code == 400 and "call_id" in response.json()["error"]
    assert upload(client, people, "alice", "../../etc").status_code == 400
    assert upload(client, people, "alice", call.id, started_at="yesterday").status_code == 400
    assert upload(client, people, "alice", call.id, started_at="2030-01-01T10:00:00").status_code == 400  # no zone
    assert upload(client, people, "alice", call.id, started_at=ended, ended_at=started).status_code == 400
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert upload(client, people, "alice", call.id, ended_at=future).status_code == 400
    assert upload(client, people, "alice", call.id, body=b"").status_code == 400
    missing = upload(client, people, "alice", "00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["error"]
    no_file = client.post(
        "/api/recordings",
        params=params(call.id),
        headers=auth(people, "alice"),
        data={"a": "b"},
        files={"other": (None, "x")},
    )
    assert no_file.status_code == 400
    assert stored_files(local_env) == []


# --- downloads -------------------------------------------------------------------------------------


def test_being_invited_to_an_open_meeting_is_not_enough_to_watch_its_recording(client, people, call):
    recording = upload(client, people, "alice", call.id).json()
    assert [r.id for r in run(client, provider().recordings, people["alice"][0].id).items] == [recording["id"]]
    assert run(client, provider().recordings, people["bob"][0].id).items == []
    refused = client.get(recording["url"], headers=auth(people, "bob"))
    assert refused.status_code == 404 and refused.json() == {"error": "Recording not found."}
    assert client.get(recording["url"], headers=auth(people, "alice")).status_code == 200


def test_download_with_range_for_who_may_watch_it_only(client, people, call, carol_was_there):
    from yoom import attendance

    recording = upload(client, people, "alice", call.id).json()
    path = recording["url"]

    full = client.get(path, headers=auth(people, "carol"))  # she was there while it recorded
    assert full.status_code == 200 and full.content == WEBM
    assert full.headers["content-type"] == "video/webm" and full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-disposition"].startswith("inline")
    assert full.headers["x-content-type-options"] == "nosniff"

    part = client.get(path, headers={"Range": "bytes=100-199", **auth(people, "alice")})
    assert part.status_code == 206 and part.content == WEBM[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(WEBM)}"
    tail = client.get(path, headers={"Range": "bytes=-10", **auth(people, "alice")})
    assert tail.status_code == 206 and tail.content == WEBM[-10:]
    head = client.head(path, headers=auth(people, "alice"))
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(WEBM)

    # Bob was invited but never came; Dave came after it was made: to them it doesn't exist.
    dave = make_user("dave")[0]
    stay = attendance.open_stay(call.id, dave.id, attendance.SOURCE_RTC)
    for name, headers in (("bob", auth(people, "bob")), ("dave", {"Authorization": f"Bearer {make_session(dave)}"})):
        stranger = client.get(path, headers=headers)
        assert stranger.status_code == 404 and stranger.json() == {"error": "Recording not found."}, name
    attendance.close_stay(stay)
    anonymous = client.get(path)
    assert anonymous.status_code == 401 and anonymous.json()["error"]
    assert client.get("/api/recordings/" + "0" * 32, headers=auth(people, "alice")).status_code == 404
    assert client.get("/api/recordings/..%2F..%2Fetc", headers=auth(people, "alice")).status_code == 404


def test_download_reports_a_missing_file(client, people, call, local_env):
    recording = upload(client, people, "alice", call.id).json()
    (local_env / "recordings" / f"{recording['id']}.webm").unlink()
    response = client.get(recording["url"], headers=auth(people, "alice"))
    assert response.status_code == 404 and "missing" in response.json()["error"]


def test_cookie_session_works_too(client, people, call):
    client.cookies.set("yoom_session", people["alice"][1])
    try:
        response = client.post(
            "/api/recordings", params=params(call.id), content=WEBM, headers={"Content-Type": "video/webm"}
        )
        assert response.status_code == 201
        assert client.get(response.json()["url"]).status_code == 200
    finally:
        client.cookies.clear()


@pytest.mark.asyncio
async def test_wrong_magic_is_refused_at_the_first_chunk(tmp_path):
    from yoom.api.recordings import UploadError, _Sink

    sink = _Sink(tmp_path, 10 * 1024 * 1024)
    sink.declare("video/webm")
    with pytest.raises(UploadError) as wrong:
        await sink.write(b"GIF89a" + b"\0" * 100)  # a GIF: refused before any more of the body is read
    assert wrong.value.status == 415
    await sink.discard()
    assert list(tmp_path.iterdir()) == []

    sink = _Sink(tmp_path, 10 * 1024 * 1024)
    sink.declare("video/mp4")
    for byte in MP4[:12]:  # the header may arrive a byte at a time
        await sink.write(bytes([byte]))
    await sink.write(MP4[12:])
    await sink.finish()
    assert sink.path.read_bytes() == MP4 and sink.size == len(MP4)
    await sink.discard()


# --- storage quota -------------------------------------------------------------------------------------


def test_the_storage_quota_holds_before_and_while_the_upload_streams(client, people, call, local_env, monkeypatch):
    from yoom.settings import get_settings

    monkeypatch.setenv("YOOM_RECORDING_QUOTA_MB", "1")
    get_settings.cache_clear()
    mb = 1024 * 1024
    first = upload(client, people, "alice", call.id, body=WEBM[:9] + b"\0" * (3 * mb // 4))
    assert first.status_code == 201

    # Known from Content-Length: refused before the body is read, saying how much is used and what to do.
    half = WEBM[:9] + b"\0" * (mb // 2)
    refused = upload(client, people, "alice", call.id, body=half)
    assert refused.status_code == 413
    message = refused.json()["error"]
    assert "0.8 MB of your 1.0 MB" in message and "Deleting old recordings" in message

    def chunks():  # no Content-Length: refused as the bytes arrive
        yield WEBM[:9]
        for _ in range(12):
            yield b"\0" * (64 * 1024)

    streamed = client.post(
        "/api/recordings",
        params=params(call.id),
        content=chunks(),
        headers={"Content-Type": "video/webm", **auth(people, "alice")},
    )
    assert streamed.status_code == 413 and "Deleting old recordings" in streamed.json()["error"]
    multipart = client.post(
        "/api/recordings",
        params=params(call.id),
        headers=auth(people, "alice"),
        files={"file": ("x.webm", half, "video/webm")},
    )
    assert multipart.status_code == 413
    assert stored_files(local_env) == [f"{first.json()['id']}.webm"]  # nothing partial left behind

    # What still fits goes in; then the quota is full and even a tiny upload is refused up front.
    assert upload(client, people, "alice", call.id, body=WEBM[:9] + b"\0" * (mb // 4 - 18)).status_code == 201
    full = upload(client, people, "alice", call.id)
    assert full.status_code == 413 and "1.0 MB of your 1.0 MB" in full.json()["error"]

    # Each person's recordings count against their own quota only.
    carol = people["carol"][0]
    own = run(client, provider().create_call, video_user(carol), CallKind.INSTANT)
    assert upload(client, people, "carol", own.id).status_code == 201

    # Deleting a recording frees its space (and removes its file).
    run(client, provider().delete_recording, first.json()["id"], people["alice"][0].id)
    assert f"{first.json()['id']}.webm" not in stored_files(local_env)
    assert upload(client, people, "alice", call.id, body=half).status_code == 201


def test_the_quota_setting_is_read_once_with_a_clear_error(tmp_path):
    from yoom.settings import SettingsError, load_settings

    base = {"YOOM_DATA_DIR": str(tmp_path), "VIDEO_PROVIDER": "local"}
    assert load_settings(base).recording_quota_bytes == 2000 * 1024 * 1024
    assert load_settings({**base, "YOOM_RECORDING_QUOTA_MB": "5"}).recording_quota_bytes == 5 * 1024 * 1024
    for bad in ("lots", "0", "-3"):
        with pytest.raises(SettingsError, match="YOOM_RECORDING_QUOTA_MB"):
            load_settings({**base, "YOOM_RECORDING_QUOTA_MB": bad})
