// A recording's upload in parts while it is made (POST /api/recordings/uploads, then one PUT per part,
// then .../complete: yoom/api/recording_parts.py), so a closed tab, a crash or a dropped network loses at
// most the part being made. Parts go in order, one at a time; a failed send waits (1 s, 2 s, 5 s, 10 s
// … or until the browser says it is online again) and tries again; when an answer was lost the server
// says which part it expects (409 `next_part`) and the upload resumes from there. No DOM beyond an
// optional `online` event target, no Reflex: tests/js drives it with a stubbed fetch.
import { serverMessage } from "../yoom_token.js";

const RETRY_MS = [1000, 2000, 5000, 10000];

export class UploadError extends Error {}

export class PartUploader {
  // base: the recordings route ("…/api/recordings"); onProgress({sent, total}) after every part.
  constructor({
    base,
    callId,
    startedAt,
    fetchImpl = (...args) => fetch(...args),
    sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    onlineTarget = typeof window !== "undefined" ? window : null,
    onProgress = () => {},
  }) {
    this.base = base;
    this.callId = callId;
    this.startedAt = startedAt;
    this.fetch = fetchImpl;
    this.sleep = sleep;
    this.onlineTarget = onlineTarget;
    this.onProgress = onProgress;
    this.uploadId = null;
    this.queue = []; // [{index, blob}] not yet confirmed by the server
    this.nextIndex = 0;
    this.sent = 0; // bytes the server confirmed
    this.total = 0; // bytes handed to the uploader
    this.failure = null; // an UploadError that ends the upload (a refusal, not a network hiccup)
    this.pumping = null;
    this.stopped = false;
  }

  // Another part (a Blob of the next bytes of the recording), sent as soon as the ones before it are.
  add(blob) {
    if (!blob || !blob.size || this.failure || this.stopped) return;
    this.queue.push({ index: this.nextIndex, blob });
    this.nextIndex += 1;
    this.total += blob.size;
    this.progress();
    this.pump();
  }

  progress() {
    this.onProgress({ sent: this.sent, total: this.total });
  }

  pump() {
    if (!this.pumping) {
      this.pumping = this.drain().finally(() => {
        this.pumping = null;
        if (this.queue.length && !this.failure && !this.stopped) this.pump();
      });
    }
    return this.pumping;
  }

  async drain() {
    let attempt = 0;
    while (this.queue.length && !this.failure && !this.stopped) {
      const outcome = await this.step();
      if (outcome === "retry") {
        await this.waitToRetry(attempt);
        attempt += 1;
      } else {
        attempt = 0;
      }
    }
  }

  // One request: open the upload, or send the first part waiting. "ok" | "retry" (a failure is kept).
  async step() {
    let res;
    try {
      if (!this.uploadId) {
        const q = new URLSearchParams({ call_id: this.callId, started_at: this.startedAt.toISOString() });
        res = await this.fetch(`${this.base}/uploads?${q}`, { method: "POST", credentials: "include" });
      } else {
        const part = this.queue[0];
        const q = new URLSearchParams({ call_id: this.callId });
        res = await this.fetch(`${this.base}/uploads/${this.uploadId}/parts/${part.index}?${q}`, {
          method: "PUT",
          credentials: "include",
          headers: { "Content-Type": "video/webm" },
          body: part.blob,
        });
      }
    } catch (_err) {
      return "retry"; // the network: try again when it is back
    }
    const body = await res.json().catch(() => null);
    if (res.status >= 500 || res.status === 429) return "retry";
    if (!this.uploadId) {
      if (!res.ok || !body || typeof body.upload_id !== "string") return this.fail(body, res.status);
      this.uploadId = body.upload_id;
      return "ok";
    }
    if (res.status === 409 && body && Number.isInteger(body.next_part)) {
      // Parts before next_part arrived (their answers were lost): drop them and go on from there.
      while (this.queue.length && this.queue[0].index < body.next_part) this.confirm(this.queue.shift());
      if (this.queue.length && this.queue[0].index > body.next_part) {
        return this.fail({ error: "A part of the recording was lost on the way; the rest can't be added." }, 409);
      }
      return "ok";
    }
    if (!res.ok) return this.fail(body, res.status);
    this.confirm(this.queue.shift());
    return "ok";
  }

  confirm(part) {
    this.sent += part.blob.size;
    this.progress();
  }

  fail(body, status) {
    this.failure = new UploadError(serverMessage(body) || `The recording couldn't be uploaded (HTTP ${status}).`);
    return "failed";
  }

  async waitToRetry(attempt) {
    const ms = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
    if (!this.onlineTarget) return this.sleep(ms);
    let onOnline;
    const online = new Promise((resolve) => {
      onOnline = resolve;
      this.onlineTarget.addEventListener("online", onOnline);
    });
    try {
      await Promise.race([this.sleep(ms), online]);
    } finally {
      this.onlineTarget.removeEventListener("online", onOnline);
    }
  }

  // Every part sent (waiting out network trouble), then the server assembles them. Resolves to the
  // recording; rejects with an UploadError written for people.
  async finish(endedAt) {
    while (this.queue.length || !this.uploadId) {
      if (this.failure) throw this.failure;
      if (this.stopped) throw new UploadError("The upload was stopped.");
      if (!this.total) throw new UploadError("Nothing was recorded.");
      await this.pump();
    }
    if (this.failure) throw this.failure;
    for (let attempt = 0; ; attempt += 1) {
      let res;
      try {
        const q = new URLSearchParams({ ended_at: endedAt.toISOString() });
        res = await this.fetch(`${this.base}/uploads/${this.uploadId}/complete?${q}`, { method: "POST", credentials: "include" });
      } catch (_err) {
        await this.waitToRetry(attempt);
        continue;
      }
      const body = await res.json().catch(() => null);
      if (res.status >= 500 && attempt < 3) {
        await this.waitToRetry(attempt);
        continue;
      }
      if (!res.ok) throw new UploadError(serverMessage(body) || `The recording couldn't be saved (HTTP ${res.status}).`);
      return body;
    }
  }

  // Stop sending (the page is going away): the server saves what it has once the upload goes quiet.
  stop() {
    this.stopped = true;
  }
}
