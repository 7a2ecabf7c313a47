"""Make a browser's WebM recording seekable: a known duration and a Cues index (no Reflex import).

A MediaRecorder writes WebM as a live stream: the Segment and its Clusters have "unknown" sizes, Info has
no Duration and there are no Cues, so a player shows no length and can't jump. And a recording that
stopped midway (a closed tab, a crash: the parts that reached the server) ends wherever the last part
ended, perhaps inside a block.

`make_seekable(src, dst)` rewrites such a file, streaming (a recording may be hundreds of MB): the EBML
header and Tracks as they are; Info with a Duration; every complete Cluster with its size written out;
an incomplete tail dropped; Cues pointing at the clusters that hold a video keyframe; a SeekHead that
finds Info, Tracks and Cues. The media itself is copied byte for byte.

Why on the server and not in the browser (e.g. npm fix-webm-duration on the final Blob): a recording
whose tab died never reaches a final assembly in the browser; the server has its parts either way, so
one mechanism serves a finished recording and a broken one alike.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import BinaryIO

EBML = 0x1A45DFA3
SEGMENT = 0x18538067
SEEK_HEAD = 0x114D9B74
SEEK = 0x4DBB
SEEK_ID = 0x53AB
SEEK_POSITION = 0x53AC
INFO = 0x1549A966
TIMECODE_SCALE = 0x2AD7B1
DURATION = 0x4489
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
TRACK_NUMBER = 0xD7
TRACK_TYPE = 0x83
CLUSTER = 0x1F43B675
CLUSTER_TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
REFERENCE_BLOCK = 0xFB
CUES = 0x1C53BB6B
CUE_POINT = 0xBB
CUE_TIME = 0xB3
CUE_TRACK_POSITIONS = 0xB7
CUE_TRACK = 0xF7
CUE_CLUSTER_POSITION = 0xF1
VOID = 0xEC
# Children of a Segment: inside a Cluster of unknown size, one of these ends the Cluster.
TOP_LEVEL = {SEEK_HEAD, INFO, TRACKS, CLUSTER, CUES, 0x1254C367, 0x1941A469, 0x1043A770}
UNKNOWN = -1
VIDEO = 1
DEFAULT_TIMECODE_SCALE = 1_000_000  # nanoseconds per timecode unit: milliseconds


class NotWebM(ValueError):
    """The file isn't a WebM this module can read (or holds no complete cluster)."""


# --- reading ------------------------------------------------------------------------------------


def _read_vint(f: BinaryIO, keep_marker: bool) -> tuple[int, int] | None:
    """(value, length) of a variable-size integer at the file's position; None at the end of the file."""
    first = f.read(1)
    if not first:
        return None
    b = first[0]
    length = 1
    mask = 0x80
    while length <= 8 and not b & mask:
        length += 1
        mask >>= 1
    if length > 8:
        raise NotWebM("bad variable-size integer")
    rest = f.read(length - 1)
    if len(rest) < length - 1:
        return None
    value = b if keep_marker else b & (mask - 1)
    all_ones = not keep_marker and value == mask - 1
    for byte in rest:
        value = (value << 8) | byte
        all_ones = all_ones and byte == 0xFF
    if all_ones:
        return UNKNOWN, length
    return value, length


def _read_header(f: BinaryIO) -> tuple[int, int, int] | None:
    """(element id, payload size or UNKNOWN, header length); None when the file ends first."""
    element = _read_vint(f, keep_marker=True)
    if element is None:
        return None
    size = _read_vint(f, keep_marker=False)
    if size is None:
        return None
    return element[0], size[0], element[1] + size[1]


def _uint(data: bytes) -> int:
    return int.from_bytes(data, "big") if data else 0


@dataclass
class _Cluster:
    timecode: int
    pieces: list[tuple[int, int]] = field(default_factory=list)  # (offset, length) of children to copy
    keyframe_at: int | None = None  # absolute time of its first video keyframe
    size: int = 0  # payload bytes in the output


@dataclass
class _Scan:
    ebml_header: bytes = b""
    info_children: list[bytes] = field(default_factory=list)
    tracks: bytes = b""
    timecode_scale: int = DEFAULT_TIMECODE_SCALE
    video_track: int | None = None
    clusters: list[_Cluster] = field(default_factory=list)
    last_time: int = 0
    frame_gap: int = 0


def _children(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(id, whole element, payload) of each child in a small element held in memory."""
    f = io.BytesIO(data)
    out = []
    while True:
        start = f.tell()
        header = _read_header(f)
        if header is None:
            break
        element, size, _ = header
        if size == UNKNOWN:
            break
        payload = f.read(size)
        if len(payload) < size:
            break
        out.append((element, data[start : f.tell()], payload))
    return out


def _video_track(tracks_payload: bytes) -> int | None:
    for element, _, entry in _children(tracks_payload):
        if element != TRACK_ENTRY:
            continue
        fields = {child: payload for child, _, payload in _children(entry)}
        if _uint(fields.get(TRACK_TYPE, b"")) == VIDEO:
            return _uint(fields.get(TRACK_NUMBER, b""))
    return None


def _block_head(f: BinaryIO, size: int) -> tuple[int, int, int] | None:
    """(track number, relative timecode, flags) of a (Simple)Block whose payload starts here."""
    start = f.tell()
    track = _read_vint(f, keep_marker=False)
    rest = f.read(3)
    f.seek(start)
    if track is None or len(rest) < 3 or track[1] + 3 > size:
        return None
    return track[0], struct.unpack(">h", rest[:2])[0], rest[2]


def _scan(f: BinaryIO, end: int) -> _Scan:
    scan = _Scan()
    header = _read_header(f)
    if header is None or header[0] != EBML or header[1] == UNKNOWN:
        raise NotWebM("no EBML header")
    f.seek(header[1], 1)
    scan.ebml_header = _reread(f, 0, f.tell())
    header = _read_header(f)
    if header is None or header[0] != SEGMENT:
        raise NotWebM("no Segment")
    segment_end = end if header[1] == UNKNOWN else min(end, f.tell() + header[1])
    video_times: list[int] = []
    cluster: _Cluster | None = None
    cluster_end = 0
    while f.tell() < segment_end:
        start = f.tell()
        header = _read_header(f)
        if header is None:
            break
        element, size, head = header
        if cluster is not None and (start >= cluster_end or element in TOP_LEVEL):
            cluster = None  # the cluster ended (by its size, or by the next top-level element)
        if size == UNKNOWN and element != CLUSTER:
            break  # nothing else may be of unknown size: stop at what is certain
        if size != UNKNOWN and f.tell() + size > segment_end:
            break  # cut off: the tail of a recording that stopped midway
        if element == CLUSTER:
            cluster = _Cluster(timecode=0)
            scan.clusters.append(cluster)
            cluster_end = segment_end if size == UNKNOWN else f.tell() + size
            continue
        if cluster is not None:
            if element == CLUSTER_TIMECODE:
                cluster.timecode = _uint(f.read(size))
            elif element in (SIMPLE_BLOCK, BLOCK_GROUP):
                found, keyframe = None, False
                if element == SIMPLE_BLOCK:
                    found = _block_head(f, size)
                    keyframe = found is not None and bool(found[2] & 0x80)
                else:
                    # Chrome writes video frames as BlockGroups: a Block, and a ReferenceBlock unless it is
                    # a keyframe.
                    group = f.read(size)
                    children = {child: data for child, _, data in _children(group)}
                    if BLOCK in children:
                        found = _block_head(io.BytesIO(children[BLOCK]), len(children[BLOCK]))
                        keyframe = REFERENCE_BLOCK not in children
                f.seek(start + head + size)
                if found is not None:
                    track, relative, _flags = found
                    at = cluster.timecode + relative
                    scan.last_time = max(scan.last_time, at)
                    if track == scan.video_track:
                        video_times.append(at)
                        if keyframe and cluster.keyframe_at is None:
                            cluster.keyframe_at = at
                cluster.pieces.append((start, head + size))
                continue
            cluster.pieces.append((start, head + size))
            f.seek(start + head + size)
            continue
        payload = f.read(size)
        if element == INFO:
            for child, whole, data in _children(payload):
                if child == TIMECODE_SCALE:
                    scan.timecode_scale = _uint(data) or DEFAULT_TIMECODE_SCALE
                if child not in (DURATION, VOID):
                    scan.info_children.append(whole)
        elif element == TRACKS:
            scan.tracks = _reread(f, start, start + head + size)
            scan.video_track = _video_track(payload)
        # SeekHead, Cues, Void, Tags …: rebuilt or left out
    if len(video_times) >= 2:
        scan.frame_gap = max(0, video_times[-1] - video_times[-2])
    scan.clusters = [c for c in scan.clusters if c.pieces]
    if not scan.tracks or not scan.clusters:
        raise NotWebM("no tracks or no complete cluster")
    return scan


def _reread(f: BinaryIO, start: int, end: int) -> bytes:
    here = f.tell()
    f.seek(start)
    data = f.read(end - start)
    f.seek(here)
    return data


# --- writing ------------------------------------------------------------------------------------


def _id_bytes(element: int) -> bytes:
    return element.to_bytes((element.bit_length() + 7) // 8, "big")


def _size_bytes(size: int, width: int | None = None) -> bytes:
    if width is None:
        width = 1
        while size >= (1 << (7 * width)) - 1:
            width += 1
    return (size | (1 << (7 * width))).to_bytes(width, "big")


def _element(element: int, payload: bytes) -> bytes:
    return _id_bytes(element) + _size_bytes(len(payload)) + payload


def _uint_element(element: int, value: int, width: int | None = None) -> bytes:
    data = value.to_bytes(width or max(1, (value.bit_length() + 7) // 8), "big")
    return _element(element, data)


def _seek_head(positions: dict[int, int]) -> bytes:
    entries = b"".join(
        _element(SEEK, _element(SEEK_ID, _id_bytes(element)) + _uint_element(SEEK_POSITION, at, 8))
        for element, at in positions.items()
    )
    return _element(SEEK_HEAD, entries)


def _cues(scan: _Scan, cluster_positions: list[int]) -> bytes:
    track = scan.video_track or 1
    points = []
    for cluster, at in zip(scan.clusters, cluster_positions, strict=True):
        time = cluster.keyframe_at if scan.video_track else cluster.timecode
        if time is None:
            continue
        positions = _uint_element(CUE_TRACK, track) + _uint_element(CUE_CLUSTER_POSITION, at)
        points.append(
            _element(CUE_POINT, _uint_element(CUE_TIME, max(0, time)) + _element(CUE_TRACK_POSITIONS, positions))
        )
    return _element(CUES, b"".join(points))


@dataclass(frozen=True)
class Fixed:
    duration_ms: int
    clusters: int
    cues: int
    size: int


def make_seekable(src: BinaryIO, dst: BinaryIO) -> Fixed:
    """Write `src` (a browser's WebM, complete or cut short) to `dst` with a Duration and Cues.
    Raises NotWebM when there is nothing playable in it. Blocking: run it in a thread."""
    src.seek(0, 2)
    end = src.tell()
    src.seek(0)
    scan = _scan(src, end)
    duration = scan.last_time + scan.frame_gap  # in timecode units
    info = _element(INFO, b"".join(scan.info_children) + _element(DURATION, struct.pack(">d", float(max(duration, 1)))))
    for cluster in scan.clusters:
        cluster.size = len(_uint_element(CLUSTER_TIMECODE, cluster.timecode)) + sum(n for _, n in cluster.pieces)
    seek_head_size = len(_seek_head({INFO: 0, TRACKS: 0, CUES: 0}))
    info_at = seek_head_size
    tracks_at = info_at + len(info)
    cluster_positions = []
    at = tracks_at + len(scan.tracks)
    for cluster in scan.clusters:
        cluster_positions.append(at)
        at += 4 + 8 + cluster.size  # ID, an 8-byte size, payload
    cues = _cues(scan, cluster_positions)
    seek_head = _seek_head({INFO: info_at, TRACKS: tracks_at, CUES: at})
    segment_size = at + len(cues)

    dst.write(scan.ebml_header)
    dst.write(_id_bytes(SEGMENT) + _size_bytes(segment_size, 8))
    dst.write(seek_head + info + scan.tracks)
    for cluster in scan.clusters:
        dst.write(_id_bytes(CLUSTER) + _size_bytes(cluster.size, 8))
        dst.write(_uint_element(CLUSTER_TIMECODE, cluster.timecode))
        for offset, length in cluster.pieces:
            src.seek(offset)
            remaining = length
            while remaining:
                chunk = src.read(min(remaining, 1 << 20))
                if not chunk:
                    raise NotWebM("the file changed while it was read")
                dst.write(chunk)
                remaining -= len(chunk)
    dst.write(cues)
    ms = duration * scan.timecode_scale // 1_000_000
    cue_count = sum(1 for c in scan.clusters if (c.keyframe_at if scan.video_track else c.timecode) is not None)
    return Fixed(
        duration_ms=int(ms), clusters=len(scan.clusters), cues=cue_count, size=len(scan.ebml_header) + 12 + segment_size
    )


def read_layout(f: BinaryIO) -> dict:
    """What a player reads first (for tests and logs): Duration in ms, how many Cues and Clusters, and
    whether every Segment child has a known size."""
    f.seek(0, 2)
    end = f.tell()
    f.seek(0)
    header = _read_header(f)
    if header is None or header[0] != EBML:
        raise NotWebM("no EBML header")
    f.seek(header[1], 1)
    header = _read_header(f)
    if header is None or header[0] != SEGMENT:
        raise NotWebM("no Segment")
    out = {"segment_known": header[1] != UNKNOWN, "duration_ms": None, "cues": 0, "clusters": 0, "known_sizes": True}
    scale = DEFAULT_TIMECODE_SCALE
    while f.tell() < end:
        header = _read_header(f)
        if header is None:
            break
        element, size, _ = header
        if size == UNKNOWN:
            out["known_sizes"] = False
            if element == CLUSTER:
                out["clusters"] += 1
            continue
        payload = f.read(size)
        if element == INFO:
            fields = {child: data for child, _, data in _children(payload)}
            scale = _uint(fields.get(TIMECODE_SCALE, b"")) or scale
            if DURATION in fields:
                raw = fields[DURATION]
                value = struct.unpack(">d" if len(raw) == 8 else ">f", raw)[0]
                out["duration_ms"] = value * scale / 1_000_000
        elif element == CLUSTER:
            out["clusters"] += 1
        elif element == CUES:
            out["cues"] = sum(1 for child, _, _ in _children(payload) if child == CUE_POINT)
    return out
