"""Recordings uploaded in parts (yoom/api/recording_parts.py, yoom/recording_uploads.py): assembled in
order, made seekable, and never lost when the recorder stops sending; hostile parts refused."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.local_helpers import make_user, provider, run
from tests.unit.test_webm import recorder_output
from yoom import recording_uploads, webm
from yoom.accounts import video_user
from yoom.video.base import CallKind

PARTS = 4


@pytest.fixture
def people(local_env):
    return {name: make_user(name) for name in ("alice", "bob")}


@pytest.fixture
def call(client, people):
    return run(client, provider().create_call, video_user(people["alice"][0]), CallKind.INSTANT)


def auth(people, name):
    return {"Authorization": f"Bearer {people[name][1]}"}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def pieces(data: bytes, count: int = PARTS) -> list[bytes]:
    step = len(data) // count + 1
    return [data[i : i + step] for i in range(0, len(data), step)]


def start(client, people, call_id, name="alice"):
    started = iso(datetime.now(UTC) - timedelta(seconds=10))
    answer = client.post(
        "/api/recordings/uploads", params={"call_id": call_id, "started_at": started}, headers=auth(people, name)
    )
    return answer


def put(client, people, upload_id, index, body, call_id, name="alice"):
    return client.put(
        f"/api/recordings/uploads/{upload_id}/parts/{index}",
        params={"call_id": call_id},
        content=body,
        headers={**auth(people, name), "Content-Type": "video/webm"},
    )


def test_parts_in_order_become_one_seekable_recording(client, people, call, local_env):
    raw = recorder_output(seconds=6)
    answer = start(client, people, call.id)
    assert answer.status_code == 201, answer.text
    upload_id = answer.json()["upload_id"]
    for index, part in enumerate(pieces(raw)):
        reply = put(client, people, upload_id, index, part, call.id)
        assert reply.status_code == 200 and reply.json()["next_part"] == index + 1, reply.text
    done = client.post(
        f"/api/recordings/uploads/{upload_id}/complete",
        params={"ended_at": iso(datetime.now(UTC))},
        headers=auth(people, "alice"),
    )
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["duration_ms"] == 6000 and body["content_type"] == "video/webm"
    played = client.get(body["url"], headers=auth(people, "alice"))
    assert played.status_code == 200
    layout = webm.read_layout(io.BytesIO(played.content))
    assert layout["duration_ms"] == 6000 and layout["cues"] == 3 and layout["known_sizes"]
    assert [r.id for r in run(client, provider().recordings, people["alice"][0].id).items] == [body["id"]]
    # No parts are left behind.
    assert not any((local_env / "recordings" / ".uploads").iterdir())
    assert (
        client.post(f"/api/recordings/uploads/{upload_id}/complete", headers=auth(people, "alice")).status_code == 404
    )


def test_out_of_order_foreign_other_call_oversized_and_non_webm_parts_are_refused(client, people, call, monkeypatch):
    raw = recorder_output(seconds=4)
    parts = pieces(raw)
    other = run(client, provider().create_call, video_user(people["alice"][0]), CallKind.INSTANT)
    upload_id = start(client, people, call.id).json()["upload_id"]
    assert start(client, people, call.id, name="bob").status_code == 403  # only the host records
    bad = put(client, people, upload_id, 0, b"<html>not a video</html>", call.id)
    assert bad.status_code == 415
    skipped = put(client, people, upload_id, 1, parts[1], call.id)
    assert skipped.status_code == 409 and skipped.json()["next_part"] == 0
    assert put(client, people, upload_id, 0, parts[0], call.id).status_code == 200
    again = put(client, people, upload_id, 0, parts[0], call.id)  # a retry whose answer was lost
    assert again.status_code == 409 and again.json()["next_part"] == 1
    assert put(client, people, upload_id, 1, parts[1], call.id, name="bob").status_code == 404  # not bob's
    assert put(client, people, upload_id, 1, parts[1], other.id).status_code == 400  # another call's
    assert put(client, people, "f" * 32, 0, parts[0], call.id).status_code == 404
    assert put(client, people, upload_id, 1, b"", call.id).status_code == 400
    monkeypatch.setattr(recording_uploads, "PART_MAX_BYTES", 16)
    huge = put(client, people, upload_id, 1, parts[1], call.id)
    assert huge.status_code == 413 and "limit" in huge.json()["error"]
    monkeypatch.setattr(recording_uploads, "PART_MAX_BYTES", 32 * 1024 * 1024)
    assert put(client, people, upload_id, 1, parts[1], call.id).status_code == 200
    unsigned = client.put(f"/api/recordings/uploads/{upload_id}/parts/2", params={"call_id": call.id}, content=parts[2])
    assert unsigned.status_code == 401


def test_a_recording_that_stops_midway_is_saved_from_the_parts_that_arrived(client, people, call, local_env):
    raw = recorder_output(seconds=6)
    parts = pieces(raw)
    upload_id = start(client, people, call.id).json()["upload_id"]
    for index, part in enumerate(parts[:2]):  # then the tab is closed
        assert put(client, people, upload_id, index, part, call.id).status_code == 200
    recordings_dir = local_env / "recordings"
    assert recording_uploads.finalise_idle(recordings_dir, 60) == []  # not quiet for long yet
    time.sleep(1.1)
    (saved,) = recording_uploads.finalise_idle(recordings_dir, 1)
    assert 1000 <= saved.duration_ms < 6000 and saved.end_time > saved.start_time
    played = client.get(saved.url, headers=auth(people, "alice"))
    layout = webm.read_layout(io.BytesIO(played.content))
    assert layout["duration_ms"] == saved.duration_ms and layout["cues"] >= 1
    # The recorder coming back later finds its upload finished.
    late = put(client, people, upload_id, 2, parts[2], call.id)
    assert late.status_code == 404
    assert recording_uploads.finalise_idle(recordings_dir, 0) == []


def test_the_quota_counts_uploads_under_way(client, people, call, local_env, monkeypatch):
    import yoom.settings

    monkeypatch.setenv("YOOM_RECORDING_QUOTA_MB", "1")
    yoom.settings.get_settings.cache_clear()
    raw = recorder_output(seconds=4)
    upload_id = start(client, people, call.id).json()["upload_id"]
    assert put(client, people, upload_id, 0, raw, call.id).status_code == 200
    big = put(client, people, upload_id, 1, bytes(1024 * 1024), call.id)
    assert big.status_code == 413
