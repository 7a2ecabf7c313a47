"""Recordings uploaded in parts while they are made (embedded provider; yoom/recording_uploads.py).

POST /api/recordings/uploads?call_id=…&started_at=…                 → 201 {upload_id, next_part, part_max_bytes}
PUT  /api/recordings/uploads/{upload_id}/parts/{n}?call_id=…         body: the next bytes of the WebM stream
                                                                     → 200 {next_part, size_bytes}
POST /api/recordings/uploads/{upload_id}/complete?ended_at=…         → 201 the recording (as POST /api/recordings)

Signed-in host of the call only (cookie from Yoom's own pages, or Bearer). A part is refused when it is
another person's upload (404, as if it didn't exist), another call's (400), out of order (409, saying
which part is expected, so a recorder that lost an answer resumes there), larger than a part may be or
than the size limit and the storage quota leave (413), or not a WebM (415, checked on part 0's magic
bytes). An upload nobody completes is finalised from its parts when it goes quiet
(YOOM_RECORDING_IDLE_SECONDS), by the app's housekeeping or when its host opens Recordings.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from yoom import recording_uploads as uploads
from yoom.api.auth import current_user, forbidden_origin, same_origin, uses_cookie
from yoom.api.recordings import CLOCK_SKEW, UploadError, _local_provider, _parse_time, sniff
from yoom.db import utcnow
from yoom.settings import get_settings
from yoom.video.base import is_valid_call_id

log = logging.getLogger(__name__)

UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_PARTS = 100_000


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers={"Cache-Control": "no-store"})


async def _who(request: Request):
    """(user, None) for the signed-in host's request, or (None, the error answer)."""
    if uses_cookie(request) and not same_origin(request):
        return None, forbidden_origin()
    user = await asyncio.to_thread(current_user, request)
    if user is None:
        return None, _error(401, "Sign in to upload a recording.")
    if _local_provider() is None:
        return None, _error(404, "Recording uploads belong to the built-in video, which isn't enabled on this server.")
    return user, None


def saved_json(saved: uploads.Saved) -> dict[str, Any]:
    return {
        "id": saved.recording_id,
        "call_id": saved.call_id,
        "filename": saved.filename,
        "url": saved.url,
        "start_time": saved.start_time.isoformat(),
        "end_time": saved.end_time.isoformat(),
        "size_bytes": saved.size_bytes,
        "content_type": "video/webm",
        "duration_ms": saved.duration_ms,
    }


async def start_upload(request: Request) -> Response:
    user, refusal = await _who(request)
    if refusal is not None:
        return refusal
    settings = get_settings()
    try:
        call_id = request.query_params.get("call_id", "")
        if not is_valid_call_id(call_id):
            raise UploadError(400, "'call_id' is missing or isn't a meeting ID.")
        started_at = _parse_time(request.query_params.get("started_at"), "started_at")
        if started_at > utcnow() + CLOCK_SKEW:
            raise UploadError(400, "'started_at' is in the future.")
        # The host coming back: their uploads that went quiet are saved first (they count against the quota).
        await asyncio.to_thread(
            uploads.finalise_idle, settings.recordings_dir, settings.recording_idle_seconds, user_id=user.id
        )
        upload = await asyncio.to_thread(
            uploads.start, call_id, user.id, started_at, quota_bytes=settings.recording_quota_bytes
        )
    except UploadError as exc:
        return _error(exc.status, exc.message)
    except uploads.UploadRefused as exc:
        return _error(exc.status, exc.message)
    body = {"upload_id": upload.id, "next_part": 0, "part_max_bytes": uploads.PART_MAX_BYTES}
    return JSONResponse(body, status_code=201, headers={"Cache-Control": "no-store"})


async def _receive(request: Request, path, room: int, first: bool) -> int:
    """Stream the body into `path`, refusing it past `room` bytes; returns its size."""
    size = 0
    head = b""
    handle = await asyncio.to_thread(open, path, "xb")
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > room:
                raise uploads.UploadRefused(413, "")
            if first and len(head) < 8:
                head += chunk[: 8 - len(head)]
                if len(head) >= 4 and sniff(head[:8].ljust(8, b"\0")) != "video/webm":
                    raise uploads.UploadRefused(415, "A recording is uploaded as WebM video.")
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
    return size


async def upload_part(request: Request) -> Response:
    user, refusal = await _who(request)
    if refusal is not None:
        return refusal
    settings = get_settings()
    upload_id = request.path_params.get("upload_id", "")
    raw_index = request.path_params.get("index", "")
    call_id = request.query_params.get("call_id", "")
    if not UPLOAD_ID.match(upload_id):
        return _error(404, uploads.NOT_FOUND)
    if not raw_index.isdigit() or int(raw_index) >= MAX_PARTS:
        return _error(400, "A part number is a whole number from 0.")
    if not is_valid_call_id(call_id):
        return _error(400, "'call_id' is missing or isn't a meeting ID.")
    index = int(raw_index)
    part_file = None
    try:
        upload = await asyncio.to_thread(uploads.check_part, upload_id, user.id, call_id, index)
        room = await asyncio.to_thread(
            uploads.room_for_part,
            upload,
            max_bytes=settings.recording_max_bytes,
            quota_bytes=settings.recording_quota_bytes,
        )
        declared = request.headers.get("content-length", "")
        too_large = "This part would take the recording past its size limit or your storage quota."
        if declared.isdigit() and int(declared) > room:
            raise uploads.UploadRefused(413, too_large)
        folder = uploads.parts_dir(settings.recordings_dir, upload_id)
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        part_file = folder / f".incoming-{uuid.uuid4().hex}"
        try:
            size = await _receive(request, part_file, room, first=index == 0)
        except uploads.UploadRefused as exc:
            raise uploads.UploadRefused(exc.status, exc.message or too_large) from None
        if size == 0:
            raise uploads.UploadRefused(400, "The part is empty.")
        upload = await asyncio.to_thread(uploads.accept_part, upload, index, part_file, size)
        part_file = None
    except uploads.UploadRefused as exc:
        extra = {"next_part": exc.next_part} if exc.next_part is not None else {}
        return _error(exc.status, exc.message, **extra)
    except ClientDisconnect:
        return _error(400, "The part was interrupted. Send it again.")
    finally:
        if part_file is not None:
            await asyncio.to_thread(part_file.unlink, missing_ok=True)
    return JSONResponse(
        {"next_part": upload.parts, "size_bytes": upload.size_bytes}, headers={"Cache-Control": "no-store"}
    )


async def complete_upload(request: Request) -> Response:
    user, refusal = await _who(request)
    if refusal is not None:
        return refusal
    upload_id = request.path_params.get("upload_id", "")
    if not UPLOAD_ID.match(upload_id):
        return _error(404, uploads.NOT_FOUND)
    try:
        raw_end = request.query_params.get("ended_at")
        ended_at = _parse_time(raw_end, "ended_at") if raw_end else None
        saved = await asyncio.to_thread(
            uploads.finalise, upload_id, get_settings().recordings_dir, user_id=user.id, ended_at=ended_at
        )
    except UploadError as exc:
        return _error(exc.status, exc.message)
    except uploads.UploadRefused as exc:
        return _error(exc.status, exc.message)
    except Exception:
        log.exception("finishing recording upload %s failed", upload_id)
        return _error(500, "The recording couldn't be saved. Please try again.")
    if saved is None:
        return _error(400, "Nothing playable was recorded.")
    return JSONResponse(saved_json(saved), status_code=201)


routes = [
    Route("/api/recordings/uploads", start_upload, methods=["POST"]),
    Route("/api/recordings/uploads/{upload_id}/parts/{index}", upload_part, methods=["PUT"]),
    Route("/api/recordings/uploads/{upload_id}/complete", complete_upload, methods=["POST"]),
]
