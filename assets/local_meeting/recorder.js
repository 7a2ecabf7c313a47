// The host's recording: everyone's video drawn as a grid on a canvas, everyone's audio mixed, both
// recorded by a MediaRecorder in this browser and uploaded to Yoom in parts while it records (every
// PART_MS, uploader.js), so a closed tab or a crash loses at most the last part; the server assembles the
// parts and makes the file seekable. A browser that can't record WebM (Safari: MP4) uploads the whole
// file at the end instead (POST /api/recordings).
import { serverMessage } from "../yoom_token.js";
import { initialsOf } from "./helpers.js";
import { containRect, gridCells } from "./layout.js";
import { PartUploader, UploadError } from "./uploader.js";

export const PART_MS = 10000;

const FPS = 15;
const VIDEO_BPS = 1000000; // ~450 MB an hour
const WIDTH = 1280;
const HEIGHT = 720;
const GAP = 8;
const MIME_TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm"];

class RecordingError extends Error {}

// The parts a MediaRecorder hands over, grouped into one upload part every PART_MS.
class PartBuffer {
  constructor() {
    this.blobs = [];
  }

  push(blob) {
    this.blobs.push(blob);
  }

  take(type) {
    if (!this.blobs.length) return null;
    const blob = new Blob(this.blobs, { type });
    this.blobs = [];
    return blob;
  }
}

// The page's design tokens (yoom/styles.py CSS_VARIABLES, in every page's <head>), read once per
// recording; the fallbacks only matter on a page without them.
function palette() {
  const css = getComputedStyle(document.documentElement);
  const read = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return {
    background: read("--yoom-dark-2", "black"),
    tile: read("--yoom-dark-3", "dimgray"),
    avatar: read("--yoom-accent", "royalblue"),
    text: read("--yoom-text", "white"),
    scrim: read("--yoom-scrim", "rgba(0, 0, 0, 0.55)"),
  };
}

export function canRecord() {
  return typeof MediaRecorder !== "undefined";
}

export class MeetingRecorder {
  // tiles() → [{key, name, track, on}] and audioTracks() → [MediaStreamTrack]: who is in the call now.
  // onFull(): the recording reached maxBytes (the server refuses larger files). upload: {base, callId,
  // onProgress({sent, total}), onFailed(message)} — where the parts go while it records.
  constructor({ tiles, audioTracks, maxBytes, onFull, upload }) {
    this.tiles = tiles;
    this.audioTracks = audioTracks;
    this.maxBytes = maxBytes;
    this.onFull = onFull;
    this.canvas = document.createElement("canvas");
    this.canvas.width = WIDTH;
    this.canvas.height = HEIGHT;
    this.g = this.canvas.getContext("2d");
    this.colors = palette();
    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    this.audioCtx = new AudioCtx();
    if (this.audioCtx.state === "suspended") this.audioCtx.resume().catch(() => {});
    this.mix = this.audioCtx.createMediaStreamDestination();
    this.sources = new Map(); // track id -> source node
    this.videos = new Map(); // tile key -> {el, trackId}
    this.chunks = [];
    this.size = 0;
    this.draw();
    this.timer = setInterval(() => this.draw(), Math.round(1000 / FPS));
    this.out = new MediaStream([...this.canvas.captureStream(FPS).getVideoTracks(), ...this.mix.stream.getAudioTracks()]);
    const mimeType = MIME_TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || "";
    try {
      this.rec = new MediaRecorder(this.out, mimeType ? { mimeType, videoBitsPerSecond: VIDEO_BPS } : undefined);
    } catch (_err) {
      this.release();
      throw new RecordingError("Recording couldn't start in this browser.");
    }
    this.startedAt = new Date();
    this.type = (mimeType || this.rec.mimeType || "video/webm").split(";")[0];
    if (upload && this.type === "video/webm") {
      this.parts = new PartBuffer();
      this.uploader = new PartUploader({
        base: upload.base,
        callId: upload.callId,
        startedAt: this.startedAt,
        onProgress: upload.onProgress || (() => {}),
      });
      this.partTimer = setInterval(() => this.sendPart(), PART_MS);
    }
    this.rec.ondataavailable = (e) => {
      if (!e.data || !e.data.size) return;
      if (this.parts) this.parts.push(e.data);
      else this.chunks.push(e.data);
      this.size += e.data.size;
      if (this.size > this.maxBytes) this.onFull();
    };
    this.rec.start(1000);
  }

  sendPart() {
    const blob = this.parts && this.parts.take("video/webm");
    if (blob) this.uploader.add(blob);
    if (this.uploader && this.uploader.failure && this.onUploadFailed) this.onUploadFailed(this.uploader.failure.message);
  }

  // Every audio track present now joins the mix (people come and go while recording).
  mixAudio() {
    const live = new Set();
    for (const t of this.audioTracks()) {
      live.add(t.id);
      if (this.sources.has(t.id)) continue;
      try {
        const node = this.audioCtx.createMediaStreamSource(new MediaStream([t]));
        node.connect(this.mix);
        this.sources.set(t.id, node);
      } catch (_err) {
        // a track that ended between listing and connecting
      }
    }
    for (const [id, node] of this.sources) {
      if (!live.has(id)) {
        node.disconnect();
        this.sources.delete(id);
      }
    }
  }

  // A hidden <video> per tile feeds drawImage.
  videoFor(tile) {
    let entry = this.videos.get(tile.key);
    if (tile.track && (!entry || entry.trackId !== tile.track.id)) {
      const el = entry ? entry.el : document.createElement("video");
      el.muted = true;
      el.playsInline = true;
      el.srcObject = new MediaStream([tile.track]);
      el.play().catch(() => {});
      entry = { el, trackId: tile.track.id };
      this.videos.set(tile.key, entry);
    }
    return entry && entry.el;
  }

  draw() {
    this.mixAudio();
    const { g, colors } = this;
    const tiles = this.tiles();
    const cells = gridCells(tiles.length, WIDTH, HEIGHT, GAP);
    g.fillStyle = colors.background;
    g.fillRect(0, 0, WIDTH, HEIGHT);
    tiles.forEach((tile, i) => {
      const cell = cells[i];
      const { x, y, w, h } = cell;
      g.fillStyle = colors.tile;
      g.fillRect(x, y, w, h);
      const el = this.videoFor(tile);
      if (tile.on && el && el.videoWidth > 0) {
        const fit = containRect(el.videoWidth, el.videoHeight, cell);
        g.drawImage(el, fit.x, fit.y, fit.w, fit.h);
      } else {
        const r = Math.min(w, h) / 6;
        g.fillStyle = colors.avatar;
        g.beginPath();
        g.arc(x + w / 2, y + h / 2, r, 0, Math.PI * 2);
        g.fill();
        g.fillStyle = colors.text;
        g.font = `${Math.round(r * 0.8)}px sans-serif`;
        g.textAlign = "center";
        g.textBaseline = "middle";
        g.fillText(initialsOf(tile.name), x + w / 2, y + h / 2);
      }
      g.fillStyle = colors.scrim;
      g.fillRect(x + 8, y + h - 34, Math.min(w - 16, 14 + tile.name.length * 9), 26);
      g.fillStyle = colors.text;
      g.font = "16px sans-serif";
      g.textAlign = "left";
      g.textBaseline = "middle";
      g.fillText(tile.name, x + 15, y + h - 21, w - 30);
    });
    const shown = new Set(tiles.map((t) => t.key));
    for (const [key, entry] of this.videos) {
      if (!shown.has(key)) {
        entry.el.srcObject = null;
        this.videos.delete(key);
      }
    }
  }

  release() {
    clearInterval(this.timer);
    clearInterval(this.partTimer);
    this.out.getTracks().forEach((t) => t.stop());
    for (const { el } of this.videos.values()) el.srcObject = null;
    this.audioCtx.close().catch(() => {});
  }

  // Stop, then upload what was recorded to `uploadUrl` for `callId`. Rejects with words for people.
  async finish(uploadUrl, callId) {
    await new Promise((resolve) => {
      this.rec.onstop = resolve;
      try {
        this.rec.stop();
      } catch (_err) {
        resolve();
      }
    });
    const endedAt = new Date();
    this.release();
    if (this.uploader) {
      this.sendPart(); // the last one
      try {
        return await this.uploader.finish(endedAt);
      } catch (err) {
        throw new RecordingError(err instanceof UploadError ? err.message : "The recording couldn't be saved.");
      }
    }
    const blob = new Blob(this.chunks, { type: this.type });
    if (!blob.size) throw new RecordingError("Nothing was recorded.");
    const q = new URLSearchParams({
      call_id: callId,
      started_at: this.startedAt.toISOString(),
      ended_at: endedAt.toISOString(),
    });
    let res;
    try {
      res = await fetch(`${uploadUrl}?${q}`, {
        method: "POST",
        credentials: "include",
        headers: { "Content-Type": this.type },
        body: blob,
      });
    } catch (_err) {
      throw new RecordingError("The recording couldn't be uploaded: Yoom's server can't be reached.");
    }
    if (!res.ok) {
      let body = null;
      try {
        body = await res.json();
      } catch (_err) {
        body = null;
      }
      throw new RecordingError(serverMessage(body) || `The recording couldn't be saved (HTTP ${res.status}).`);
    }
  }
}

export function recordingErrorMessage(err, fallback) {
  return err instanceof RecordingError ? err.message : fallback;
}
