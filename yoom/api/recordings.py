"""Recordings of the built-in video: the host's browser uploads them; the people allowed play them back.

POST /api/recordings?call_id=…&started_at=…&ended_at=…   (ISO 8601 with a time zone)
    body: the file itself (Content-Type video/webm or video/mp4), or multipart/form-data with one
    file part of those types. Signed-in host of the call only. The size limit (YOOM_RECORDING_MAX_MB)
    and the host's storage quota (YOOM_RECORDING_QUOTA_MB: all their stored recordings together) are
    enforced before the body is read (from Content-Length) and while it streams to disk, and once more
    when the recording is saved; the declared type must match the file's magic bytes (WebM/Matroska EBML
    header, or an MP4 `ftyp` box). 201 + JSON.
GET /api/recordings/{id}
    the file, with Range requests (206) so a <video> can seek; for the people
    yoom.meeting_rules.may_watch_recording allows (the host, who was there while it recorded, and the
    invitees of an invite-only meeting that shares its recordings); 404 for everyone else.
Errors are JSON `{"error": "..."}`: 400, 401, 403, 404, 413, 415.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from yoom.api.auth import current_user, forbidden_origin, same_origin, uses_cookie
from yoom.db import as_utc, utcnow
from yoom.settings import get_settings
from yoom.video import get_provider
from yoom.video.base import CallNotFound, NotCallOwner, Recording, is_valid_call_id
from yoom.video.local_provider import LocalProvider, QuotaExceeded, quota_message

try:
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser, parse_options_header
except ModuleNotFoundError:  # pragma: no cover - older name of the same package
    from multipart.exceptions import MultipartParseError  # type: ignore
    from multipart.multipart import MultipartParser, parse_options_header  # type: ignore

log = logging.getLogger(__name__)

EXTENSIONS = {"video/webm": "webm", "video/mp4": "mp4"}
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and a few small fields around the file
MAX_FIELD_BYTES = 1024
MAX_FIELDS = 16
WRITE_BUFFER = 1024 * 1024
CLOCK_SKEW = timedelta(minutes=5)
RECORDING_ID_RE = re.compile(r"^[0-9a-f]{32}$")


class UploadError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _media_type(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return (value or "").split(";", 1)[0].strip().lower()


def sniff(head: bytes) -> str | None:
    """The container the first bytes announce: WebM/Matroska (EBML) or MP4 (ftyp box)."""
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "video/mp4"
    return None


def _too_large(max_bytes: int) -> UploadError:
    return UploadError(413, f"The recording is larger than the {max_bytes // (1024 * 1024)} MB limit.")


def _wrong_type(declared: str) -> UploadError:
    return UploadError(415, f"The file isn't a {declared or 'WebM or MP4'} video. Upload a WebM or MP4 recording.")


class _Sink:
    """Writes the uploaded file to a temporary name in the recordings folder, checking as it goes.
    `too_large` is what going past `max_bytes` answers (the size limit, or the quota when that is less)."""

    def __init__(self, directory: Path, max_bytes: int, too_large: UploadError | None = None):
        self.directory = directory
        self.max_bytes = max_bytes
        self.too_large = too_large or _too_large(max_bytes)
        self.path = directory / f".upload-{uuid.uuid4().hex}.part"
        self.declared = ""
        self.size = 0
        self.head = b""
        self.buffer = bytearray()
        self.file: BinaryIO | None = None

    def declare(self, content_type: str) -> None:
        if content_type not in EXTENSIONS:
            raise UploadError(415, "Upload a WebM or MP4 video (Content-Type video/webm or video/mp4).")
        self.declared = content_type

    async def write(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.size > self.max_bytes:
            raise self.too_large
        if len(self.head) < 8:
            self.head += data[: 8 - len(self.head)]
            if len(self.head) >= 8 and sniff(self.head) != self.declared:
                raise _wrong_type(self.declared)
        self.buffer += data
        if len(self.buffer) >= WRITE_BUFFER:
            await self.flush()

    async def flush(self) -> None:
        if not self.buffer:
            return
        chunk, self.buffer = bytes(self.buffer), bytearray()
        if self.file is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.file = await asyncio.to_thread(open, self.path, "xb")
        await asyncio.to_thread(self.file.write, chunk)

    async def finish(self) -> None:
        if self.size == 0:
            raise UploadError(400, "The recording is empty.")
        if len(self.head) < 8 or sniff(self.head) != self.declared:
            raise _wrong_type(self.declared)
        await self.flush()
        if self.file is not None:
            await asyncio.to_thread(self.file.close)
            self.file = None

    def discard_now(self) -> None:
        """Remove the partial file (also safe to call when it was never created or already moved)."""
        file, self.file = self.file, None
        if file is not None:
            file.close()
        self.path.unlink(missing_ok=True)

    async def discard(self) -> None:
        await asyncio.to_thread(self.discard_now)


async def _limited_stream(request: Request, limit: int, too_large: UploadError):
    """The request body, refused once it goes past `limit` bytes (whatever Content-Length said)."""
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise too_large
        yield chunk


async def _receive_raw(request: Request, sink: _Sink) -> None:
    sink.declare(_media_type(request.headers.get("content-type")))
    async for chunk in _limited_stream(request, sink.max_bytes, sink.too_large):
        await sink.write(chunk)


async def _receive_multipart(request: Request, sink: _Sink) -> None:
    """Stream a multipart body: the one file part goes to the sink, small fields are skipped."""
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise UploadError(400, "The upload has no multipart boundary.")

    state: dict[str, Any] = {
        "header": b"",
        "value": b"",
        "headers": {},
        "is_file": False,
        "files": 0,
        "fields": 0,
        "field_size": 0,
    }
    pending: list[bytes] = []

    def on_part_begin() -> None:
        state.update(headers={}, is_file=False, field_size=0)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["header"].lower()] = state["value"]
        state["header"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(state["headers"].get(b"content-disposition", b""))
        if b"filename" in options:
            state["files"] += 1
            if state["files"] > 1:
                raise UploadError(400, "Upload one recording at a time.")
            state["is_file"] = True
            sink.declare(_media_type(state["headers"].get(b"content-type")))
        else:
            state["fields"] += 1
            if state["fields"] > MAX_FIELDS:
                raise UploadError(400, "The upload has too many form fields.")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["is_file"]:
            pending.append(data[start:end])
        else:
            state["field_size"] += end - start
            if state["field_size"] > MAX_FIELD_BYTES:
                raise UploadError(400, "A form field of the upload is too long.")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    try:
        async for chunk in _limited_stream(request, sink.max_bytes + MULTIPART_OVERHEAD, sink.too_large):
            parser.write(chunk)
            for data in pending:
                await sink.write(data)
            pending.clear()
        parser.finalize()
    except MultipartParseError:
        raise UploadError(400, "The multipart upload is malformed.") from None
    if state["files"] == 0:
        raise UploadError(400, "The upload has no file. Send the recording as the body or a multipart file.")


def _parse_time(raw: str | None, name: str) -> datetime:
    if not raw:
        raise UploadError(400, f"'{name}' is required (ISO 8601, e.g. 2025-01-31T09:30:00Z).")
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UploadError(400, f"'{name}' must be an ISO 8601 date and time.") from None
    if value.tzinfo is None:
        raise UploadError(400, f"'{name}' must include a time zone (e.g. ends with Z).")
    return as_utc(value)


def _local_provider() -> LocalProvider | None:
    provider = get_provider()
    return provider if isinstance(provider, LocalProvider) else None


def recording_json(
    recording: Recording, *, size_bytes: int | None = None, content_type: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": recording.id,
        "call_id": recording.call_id,
        "filename": recording.filename,
        "url": recording.url,
        "start_time": recording.start_time.isoformat(),
        "end_time": recording.end_time.isoformat(),
    }
    if size_bytes is not None:
        body["size_bytes"] = size_bytes
    if content_type is not None:
        body["content_type"] = content_type
    return body


async def upload_recording(request: Request) -> Response:
    if uses_cookie(request) and not same_origin(request):
        return forbidden_origin()
    user = await asyncio.to_thread(current_user, request)
    if user is None:
        return _error(401, "Sign in to upload a recording.")
    provider = _local_provider()
    if provider is None:
        return _error(404, "Recording uploads belong to the built-in video, which isn't enabled on this server.")
    settings = get_settings()
    max_bytes, quota = settings.recording_max_bytes, settings.recording_quota_bytes

    try:
        call_id = request.query_params.get("call_id", "")
        if not is_valid_call_id(call_id):
            raise UploadError(400, "'call_id' is missing or isn't a meeting ID.")
        started_at = _parse_time(request.query_params.get("started_at"), "started_at")
        ended_at = _parse_time(request.query_params.get("ended_at"), "ended_at")
        if ended_at < started_at:
            raise UploadError(400, "'ended_at' is before 'started_at'.")
        if ended_at > utcnow() + CLOCK_SKEW:
            raise UploadError(400, "'ended_at' is in the future.")
        call = await provider.get_call(call_id)
        if call is None:
            raise UploadError(404, "That meeting doesn't exist.")
        if call.created_by != user.id:
            raise UploadError(403, "Only the meeting's host can upload its recording.")
        used = await provider.recording_usage(user.id)
        over_quota = UploadError(413, quota_message(used, quota))
        if used >= quota:
            raise over_quota
        content_type = _media_type(request.headers.get("content-type"))
        is_multipart = content_type == "multipart/form-data"
        overhead = MULTIPART_OVERHEAD if is_multipart else 0
        declared_length = request.headers.get("content-length", "")
        if declared_length.isdigit() and int(declared_length) > max_bytes + overhead:
            raise _too_large(max_bytes)
        if declared_length.isdigit() and int(declared_length) - overhead > quota - used:
            raise over_quota
    except UploadError as exc:
        return _error(exc.status, exc.message)

    room = quota - used
    sink = (
        _Sink(settings.recordings_dir, room, over_quota)
        if room < max_bytes
        else _Sink(settings.recordings_dir, max_bytes)
    )
    try:
        if is_multipart:
            await _receive_multipart(request, sink)
        else:
            await _receive_raw(request, sink)
        await sink.finish()
        recording_id = uuid.uuid4().hex
        extension = EXTENSIONS[sink.declared]
        stored_name = f"{recording_id}.{extension}"
        filename = f"yoom-{call_id[:8]}-{started_at:%Y%m%d-%H%M%S}.{extension}"
        final = settings.recordings_dir / stored_name
        await asyncio.to_thread(os.replace, sink.path, final)
        try:
            recording = await provider.add_recording(
                call_id,
                user.id,
                recording_id=recording_id,
                filename=filename,
                stored_name=stored_name,
                content_type=sink.declared,
                size_bytes=sink.size,
                start_time=started_at,
                end_time=ended_at,
                quota_bytes=quota,  # again, now: another upload of theirs may have finished meanwhile
            )
        except BaseException:
            final.unlink(missing_ok=True)
            raise
    except UploadError as exc:
        await sink.discard()
        return _error(exc.status, exc.message)
    except ClientDisconnect:
        await sink.discard()
        return _error(400, "The upload was interrupted.")
    except QuotaExceeded as exc:
        await sink.discard()
        return _error(413, exc.user_message)
    except CallNotFound:
        await sink.discard()
        return _error(404, "That meeting doesn't exist.")
    except NotCallOwner:
        await sink.discard()
        return _error(403, "Only the meeting's host can upload its recording.")
    except Exception:
        await sink.discard()
        log.exception("recording upload for %s failed", call_id)
        return _error(500, "The recording couldn't be saved. Please try again.")
    except BaseException:  # cancelled: clean up without awaiting, and let the cancellation through
        sink.discard_now()
        raise
    return JSONResponse(recording_json(recording, size_bytes=sink.size, content_type=sink.declared), status_code=201)


async def download_recording(request: Request) -> Response:
    if uses_cookie(request) and not same_origin(request):
        return forbidden_origin()
    user = await asyncio.to_thread(current_user, request)
    if user is None:
        return _error(401, "Sign in to watch recordings.")
    provider = _local_provider()
    recording_id = request.path_params.get("recording_id", "")
    if provider is None or not RECORDING_ID_RE.match(recording_id):
        return _error(404, "Recording not found.")
    row = await provider.recording_for_user(recording_id, user.id)
    if row is None:
        return _error(404, "Recording not found.")
    path = get_settings().recordings_dir / row.stored_name
    if not await asyncio.to_thread(path.is_file):
        log.error("recording %s: file %s is missing", row.id, path)
        return _error(404, "The recording's file is missing from the server.")
    return FileResponse(
        path,
        media_type=row.content_type,
        filename=row.filename,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


routes = [
    Route("/api/recordings", upload_recording, methods=["POST"]),
    Route("/api/recordings/{recording_id}", download_recording, methods=["GET", "HEAD"]),
]
