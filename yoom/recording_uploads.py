"""Recordings that arrive in parts while they are made, so a closed tab, a crash or a lost network loses
at most the last part (no Reflex import; the HTTP side is yoom/api/recording_parts.py).

* `start` opens an upload for the host of a call (`yoom_recording_upload`); each part is kept as its own
  file under `recordings/.uploads/<upload id>/`, accepted only in order (part n after part n-1), only from
  the upload's owner and for its call, and only within the size limit and the host's storage quota.
* `finalise` assembles the parts in order, makes the WebM seekable (yoom/webm.py: duration and cues) and
  stores it as a recording of the call — when the recorder says it is done, and for an upload that went
  quiet (`finalise_idle`: the app's housekeeping every minute, and when its host opens Recordings again).
* An upload is claimed by deleting its row, so two finalisations never both make a recording.

Blocking (files, SQL): call these through asyncio.to_thread, as the routes and housekeeping do.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import sqlalchemy
from sqlmodel import col, delete, select, update

from yoom import webm
from yoom.db import as_utc, session_scope, to_db, utcnow
from yoom.models import LocalCall, LocalRecording, RecordingUpload
from yoom.video.local_provider import quota_message, recording_url

log = logging.getLogger(__name__)

PART_MAX_BYTES = 32 * 1024 * 1024  # one part: ~10 s of a recording is about 1.5 MB
UPLOADS_FOLDER = ".uploads"


class UploadRefused(Exception):
    """A refused step; `status` is the HTTP status, `message` words for people, `next_part` the part the
    server expects (set when a part came out of order, so the recorder can resume from there)."""

    def __init__(self, status: int, message: str, next_part: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.next_part = next_part


NOT_FOUND = "That recording upload doesn't exist (or is already finished)."


@dataclass(frozen=True)
class Upload:
    id: str
    call_id: str
    created_by: str
    started_at: datetime
    parts: int
    size_bytes: int
    last_part_at: datetime


@dataclass(frozen=True)
class Saved:
    recording_id: str
    call_id: str
    filename: str
    url: str
    start_time: datetime
    end_time: datetime
    size_bytes: int
    duration_ms: int


def _upload(row: RecordingUpload) -> Upload:
    return Upload(
        id=row.id,
        call_id=row.call_id,
        created_by=row.created_by,
        started_at=as_utc(row.started_at),
        parts=row.parts,
        size_bytes=row.size_bytes,
        last_part_at=as_utc(row.last_part_at),
    )


def parts_dir(recordings_dir: Path, upload_id: str) -> Path:
    return recordings_dir / UPLOADS_FOLDER / upload_id


def _usage(db, user_id: str, but: str | None = None) -> int:
    """The host's stored recordings plus their uploads under way (but `but`)."""
    stored = db.exec(
        select(sqlalchemy.func.coalesce(sqlalchemy.func.sum(LocalRecording.size_bytes), 0)).where(
            LocalRecording.created_by == user_id
        )
    ).one()
    pending = select(sqlalchemy.func.coalesce(sqlalchemy.func.sum(RecordingUpload.size_bytes), 0)).where(
        RecordingUpload.created_by == user_id
    )
    if but is not None:
        pending = pending.where(RecordingUpload.id != but)
    return int(stored) + int(db.exec(pending).one())


def start(
    call_id: str,
    user_id: str,
    started_at: datetime,
    *,
    quota_bytes: int,
    engine: sqlalchemy.Engine | None = None,
) -> Upload:
    """Open an upload for the host of `call_id`."""
    now = utcnow()
    with session_scope(engine) as db:
        call = db.get(LocalCall, call_id)
        if call is None:
            raise UploadRefused(404, "That meeting doesn't exist.")
        if call.created_by != user_id:
            raise UploadRefused(403, "Only the meeting's host can record it.")
        used = _usage(db, user_id)
        if used >= quota_bytes:
            raise UploadRefused(413, quota_message(used, quota_bytes))
        row = RecordingUpload(
            id=uuid.uuid4().hex,
            call_id=call_id,
            created_by=user_id,
            content_type="video/webm",
            started_at=to_db(started_at),
            last_part_at=to_db(now),
        )
        db.add(row)
        db.flush()
        return _upload(row)


def check_part(
    upload_id: str,
    user_id: str,
    call_id: str,
    index: int,
    *,
    engine: sqlalchemy.Engine | None = None,
) -> Upload:
    """Whether part `index` may come now; raises UploadRefused (404 foreign or unknown, 400 another call's,
    409 out of order with the part expected)."""
    with session_scope(engine) as db:
        row = db.get(RecordingUpload, upload_id)
        if row is None or row.created_by != user_id:
            raise UploadRefused(404, NOT_FOUND)  # someone else's upload doesn't exist, as far as they know
        if row.call_id != call_id:
            raise UploadRefused(400, "That part belongs to another meeting's recording.")
        if index != row.parts:
            raise UploadRefused(409, f"Part {index} came out of order: part {row.parts} is expected.", row.parts)
        return _upload(row)


def room_for_part(upload: Upload, *, max_bytes: int, quota_bytes: int, engine: sqlalchemy.Engine | None = None) -> int:
    """How many bytes the next part may have: the part limit, the recording's size limit, the quota."""
    with session_scope(engine) as db:
        used = _usage(db, upload.created_by, but=upload.id)
    return max(0, min(PART_MAX_BYTES, max_bytes - upload.size_bytes, quota_bytes - used - upload.size_bytes))


def accept_part(
    upload: Upload, index: int, part_file: Path, size: int, *, engine: sqlalchemy.Engine | None = None
) -> Upload:
    """Keep a received part (written to `part_file`) as part `index`, if it is still the one expected: the
    row moves on only from `index` to `index + 1` (a retried part racing its first try is refused)."""
    folder = part_file.parent
    final = folder / f"{index:06d}.part"
    with session_scope(engine) as db:
        moved = db.exec(
            update(RecordingUpload)
            .where(col(RecordingUpload.id) == upload.id, col(RecordingUpload.parts) == index)
            .values(
                parts=index + 1,
                size_bytes=RecordingUpload.size_bytes + size,
                last_part_at=to_db(utcnow()),
            )
        ).rowcount
        if moved != 1:
            part_file.unlink(missing_ok=True)
            row = db.get(RecordingUpload, upload.id)
            if row is None:
                raise UploadRefused(404, NOT_FOUND)
            raise UploadRefused(409, f"Part {index} came out of order: part {row.parts} is expected.", row.parts)
        os.replace(part_file, final)
        row = db.get(RecordingUpload, upload.id)
        return _upload(row)


class _Parts:
    """The parts of an upload read as one file (seek, tell, read), so assembling needs no extra copy."""

    def __init__(self, files: list[Path]):
        self.files = [(path, path.stat().st_size) for path in files]
        self.total = sum(size for _, size in self.files)
        self.position = 0
        self._open: tuple[int, BinaryIO] | None = None

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.total}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = self.total - self.position
        out = bytearray()
        while size > 0 and self.position < self.total:
            start = 0
            for number, (path, length) in enumerate(self.files):
                if self.position < start + length:
                    if self._open is None or self._open[0] != number:
                        self.close()
                        self._open = (number, open(path, "rb"))  # noqa: SIM115  (kept open across reads)
                    handle = self._open[1]
                    handle.seek(self.position - start)
                    chunk = handle.read(min(size, start + length - self.position))
                    break
                start += length
            else:
                break
            if not chunk:
                break
            out += chunk
            self.position += len(chunk)
            size -= len(chunk)
        return bytes(out)

    def close(self) -> None:
        if self._open is not None:
            self._open[1].close()
            self._open = None


def _claim(upload_id: str, engine: sqlalchemy.Engine | None) -> Upload | None:
    """Take the upload out of the table (whoever deletes its row finalises it)."""
    with session_scope(engine) as db:
        row = db.get(RecordingUpload, upload_id)
        if row is None:
            return None
        upload = _upload(row)
        if db.exec(delete(RecordingUpload).where(col(RecordingUpload.id) == upload_id)).rowcount != 1:
            return None
        return upload


def finalise(
    upload_id: str,
    recordings_dir: Path,
    *,
    user_id: str | None = None,
    ended_at: datetime | None = None,
    engine: sqlalchemy.Engine | None = None,
) -> Saved | None:
    """Assemble the parts that arrived into a seekable recording of the call; None when there was nothing
    playable (the upload is gone either way). With `user_id`, only that person's upload."""
    if user_id is not None:
        with session_scope(engine) as db:
            row = db.get(RecordingUpload, upload_id)
            if row is None or row.created_by != user_id:
                raise UploadRefused(404, NOT_FOUND)
    upload = _claim(upload_id, engine)
    if upload is None:
        raise UploadRefused(404, NOT_FOUND)
    folder = parts_dir(recordings_dir, upload.id)
    files = sorted(folder.glob("*.part")) if folder.is_dir() else []
    files = [f for f in files if f.name[:6].isdigit()]
    recording_id = uuid.uuid4().hex
    stored_name = f"{recording_id}.webm"
    final = recordings_dir / stored_name
    try:
        if not files:
            return None
        parts = _Parts(files)
        try:
            with open(final, "xb") as out:
                fixed = webm.make_seekable(parts, out)
        finally:
            parts.close()
        started = upload.started_at
        # The recorder's word for the end when it gave one (bounded by what the parts hold), else the media's.
        by_media = started + timedelta(milliseconds=fixed.duration_ms)
        end = min(as_utc(ended_at), by_media + timedelta(seconds=15)) if ended_at else by_media
        end = max(started, min(end, utcnow()))
        size = final.stat().st_size
        filename = f"yoom-{upload.call_id[:8]}-{started:%Y%m%d-%H%M%S}.webm"
        with session_scope(engine) as db:
            if db.get(LocalCall, upload.call_id) is None:
                raise UploadRefused(404, "That meeting doesn't exist any more.")
            db.add(
                LocalRecording(
                    id=recording_id,
                    call_id=upload.call_id,
                    created_by=upload.created_by,
                    filename=filename,
                    stored_name=stored_name,
                    content_type="video/webm",
                    size_bytes=size,
                    start_time=to_db(started),
                    end_time=to_db(end),
                    created_at=to_db(utcnow()),
                )
            )
        return Saved(
            recording_id=recording_id,
            call_id=upload.call_id,
            filename=filename,
            url=recording_url(recording_id),
            start_time=started,
            end_time=end,
            size_bytes=size,
            duration_ms=fixed.duration_ms,
        )
    except webm.NotWebM as exc:
        log.warning("recording upload %s held nothing playable (%s); discarded", upload.id, exc)
        final.unlink(missing_ok=True)
        return None
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def idle_uploads(
    idle_seconds: float, *, user_id: str | None = None, engine: sqlalchemy.Engine | None = None
) -> list[str]:
    """Uploads no part has reached for `idle_seconds` (of one person, when given)."""
    cutoff = utcnow() - timedelta(seconds=idle_seconds)
    statement = select(RecordingUpload.id).where(col(RecordingUpload.last_part_at) < to_db(cutoff))
    if user_id is not None:
        statement = statement.where(col(RecordingUpload.created_by) == user_id)
    with session_scope(engine) as db:
        return list(db.exec(statement).all())


def finalise_idle(
    recordings_dir: Path,
    idle_seconds: float,
    *,
    user_id: str | None = None,
    engine: sqlalchemy.Engine | None = None,
) -> list[Saved]:
    """Finalise every upload that went quiet (a closed tab, a crash, a network that never came back) from
    the parts that arrived. Returns the recordings made."""
    saved = []
    for upload_id in idle_uploads(idle_seconds, user_id=user_id, engine=engine):
        try:
            made = finalise(upload_id, recordings_dir, engine=engine)
        except UploadRefused:
            continue  # finalised by someone else meanwhile
        except Exception:
            log.exception("finalising recording upload %s failed", upload_id)
            continue
        if made is not None:
            log.info("recording upload %s finalised after it went quiet: %s", upload_id, made.recording_id)
            saved.append(made)
    return saved
