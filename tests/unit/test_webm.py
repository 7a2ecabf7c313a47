"""yoom/webm.py on WebM files written the way a browser's MediaRecorder writes them: a live stream with
unknown sizes, no Duration, no Cues — complete, or cut off midway as a crashed recording is."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from yoom import webm


def el(element: int, payload: bytes, unknown: bool = False) -> bytes:
    size = b"\x01\xff\xff\xff\xff\xff\xff\xff" if unknown else webm._size_bytes(len(payload))
    return webm._id_bytes(element) + size + payload


def uint(element: int, value: int) -> bytes:
    return webm._uint_element(element, value)


def simple_block(track: int, relative_ms: int, keyframe: bool, size: int = 40) -> bytes:
    head = bytes([0x80 | track]) + struct.pack(">h", relative_ms) + bytes([0x80 if keyframe else 0])
    return el(webm.SIMPLE_BLOCK, head + bytes(size))


def recorder_output(seconds: int = 6, cluster_every: int = 2, fps: int = 10) -> bytes:
    """Like Chrome's MediaRecorder: EBML, a Segment and Clusters of unknown size, no Duration, no Cues."""
    header = el(webm.EBML, uint(0x4286, 1) + el(0x4282, b"webm"))
    info = el(webm.INFO, uint(webm.TIMECODE_SCALE, 1_000_000) + el(0x4D80, b"Chrome") + el(0x5741, b"Chrome"))
    video = el(webm.TRACK_ENTRY, uint(webm.TRACK_NUMBER, 1) + uint(webm.TRACK_TYPE, 1) + el(0x86, b"V_VP8"))
    audio = el(webm.TRACK_ENTRY, uint(webm.TRACK_NUMBER, 2) + uint(webm.TRACK_TYPE, 2) + el(0x86, b"A_OPUS"))
    body = info + el(webm.TRACKS, video + audio)
    frame_ms = 1000 // fps
    for start in range(0, seconds * 1000, cluster_every * 1000):
        blocks = uint(webm.CLUSTER_TIMECODE, start)
        for t in range(0, cluster_every * 1000, frame_ms):
            blocks += simple_block(1, t, keyframe=t == 0) + simple_block(2, t, keyframe=True, size=10)
        body += el(webm.CLUSTER, blocks, unknown=True)
    return header + webm._id_bytes(webm.SEGMENT) + b"\x01\xff\xff\xff\xff\xff\xff\xff" + body


def fix(data: bytes) -> tuple[webm.Fixed, dict, bytes]:
    out = io.BytesIO()
    fixed = webm.make_seekable(io.BytesIO(data), out)
    result = out.getvalue()
    return fixed, webm.read_layout(io.BytesIO(result)), result


def test_a_live_recording_gets_its_duration_cues_and_known_sizes():
    raw = recorder_output(seconds=6)
    before = webm.read_layout(io.BytesIO(raw))
    assert before["duration_ms"] is None and before["cues"] == 0 and not before["segment_known"]
    fixed, layout, result = fix(raw)
    assert fixed.duration_ms == 6000  # last frame at 5.9 s, plus one frame
    assert layout == {"segment_known": True, "duration_ms": 6000.0, "cues": 3, "clusters": 3, "known_sizes": True}
    assert fixed.size == len(result)
    # Fixing a fixed file changes nothing that matters.
    again, layout2, _ = fix(result)
    assert (again.duration_ms, layout2["cues"], layout2["clusters"]) == (6000, 3, 3)


def test_cues_point_at_the_clusters_they_name():
    _, _, result = fix(recorder_output(seconds=4))
    f = io.BytesIO(result)
    webm._read_header(f)
    f.seek(webm._read_header(io.BytesIO(result))[1] + webm._read_header(io.BytesIO(result))[2])
    segment = webm._read_header(f)
    data_start = f.tell()
    payload = result[data_start : data_start + segment[1]]
    (cues,) = [p for element, _, p in webm._children(payload) if element == webm.CUES]
    points = [p for element, _, p in webm._children(cues) if element == webm.CUE_POINT]
    for point, expected_time in zip(points, (0, 2000), strict=True):
        fields = {e: p for e, _, p in webm._children(point)}
        assert webm._uint(fields[webm.CUE_TIME]) == expected_time
        positions = {e: p for e, _, p in webm._children(fields[webm.CUE_TRACK_POSITIONS])}
        at = webm._uint(positions[webm.CUE_CLUSTER_POSITION])
        assert payload[at : at + 4] == webm._id_bytes(webm.CLUSTER)
        cluster = io.BytesIO(payload[at:])
        webm._read_header(cluster)
        timecode = webm._read_header(cluster)
        assert timecode[0] == webm.CLUSTER_TIMECODE and webm._uint(cluster.read(timecode[1])) == expected_time


@pytest.mark.parametrize("cut", [1, 7, 333, 1000])
def test_a_recording_cut_off_midway_keeps_every_complete_block(cut):
    raw = recorder_output(seconds=6)
    fixed, layout, _ = fix(raw[:-cut])
    assert layout["known_sizes"] and layout["segment_known"] and layout["cues"] == 3
    assert 4000 <= fixed.duration_ms <= 6000  # each block is ~100 ms of a few dozen bytes


def test_what_is_not_a_playable_webm_is_refused():
    for data in (b"", b"not a video at all", recorder_output()[:60]):
        with pytest.raises(webm.NotWebM):
            fix(data)


def test_a_real_chromium_recording_in_parts_is_assembled_and_fixed(tmp_path):
    """Chromium's MediaRecorder (VP8 video as BlockGroups, Opus audio as SimpleBlocks, 4 s), cut into parts
    the way the recorder uploads them, read through the parts reader the server assembles with."""
    from yoom.recording_uploads import _Parts

    raw = (Path(__file__).parent / "data" / "chromium_mediarecorder.webm").read_bytes()
    whole = io.BytesIO()
    fixed = webm.make_seekable(io.BytesIO(raw), whole)
    assert 3500 <= fixed.duration_ms <= 4600 and fixed.clusters >= 3 and fixed.cues >= 1
    files = []
    for n, start in enumerate(range(0, len(raw), 7000)):
        files.append(tmp_path / f"{n:06d}.part")
        files[-1].write_bytes(raw[start : start + 7000])
    parts = _Parts(files)
    assembled = io.BytesIO()
    webm.make_seekable(parts, assembled)
    parts.close()
    assert assembled.getvalue() == whole.getvalue()
    layout = webm.read_layout(io.BytesIO(whole.getvalue()))
    assert layout["known_sizes"] and layout["duration_ms"] == fixed.duration_ms


def test_keyframes_in_block_groups_are_the_ones_without_a_reference():
    header = el(webm.EBML, uint(0x4286, 1) + el(0x4282, b"webm"))
    video = el(webm.TRACK_ENTRY, uint(webm.TRACK_NUMBER, 1) + uint(webm.TRACK_TYPE, 1))
    body = el(webm.INFO, uint(webm.TIMECODE_SCALE, 1_000_000)) + el(webm.TRACKS, video)
    for start in (0, 1000, 2000):
        frames = uint(webm.CLUSTER_TIMECODE, start)
        for t in range(0, 1000, 100):
            block = el(webm.BLOCK, bytes([0x81]) + struct.pack(">h", t) + b"\x00" + bytes(30))
            keyframe = start != 1000 and t == 0  # the middle second has none
            frames += el(webm.BLOCK_GROUP, block + (b"" if keyframe else el(webm.REFERENCE_BLOCK, b"\x9c")))
        body += el(webm.CLUSTER, frames, unknown=True)
    raw = header + webm._id_bytes(webm.SEGMENT) + b"\x01\xff\xff\xff\xff\xff\xff\xff" + body
    fixed, layout, _ = fix(raw)
    assert (fixed.duration_ms, fixed.clusters, fixed.cues, layout["cues"]) == (3000, 3, 2, 2)
