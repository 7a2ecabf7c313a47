// Yoom's built-in meetings: a peer-to-peer WebRTC mesh, signaled over Yoom's own WebSocket
// (docs/rtc-protocol.md). `LocalCall` owns one MeshEngine (media, sockets, peer connections,
// recorder) and shares it through context; the other components only read it, so the meeting
// screen is composed in Python (yoom/components/local_video.py, yoom/pages/meeting.py).
import React, { createContext, useContext, useEffect, useMemo, useRef, useState } from "react";
import { getBackendURL } from "$/utils/state";

const PING_MS = 3000;
const PONG_TIMEOUT_MS = 10000;
const MAX_RECONNECTS = 5;
const SPEAKER_POLL_MS = 400;
const TOKEN_MIN_LIFETIME_S = 60;
const RECORD_FPS = 15;
const RECORD_VIDEO_BPS = 1000000; // ~450 MB an hour
// Recordings are held in memory until uploaded, and the server refuses files over its limit
// (YOOM_RECORDING_MAX_MB, 500 by default): stop in time and save what was recorded.
// Fallback only: the token route tells the real limit (YOOM_RECORDING_MAX_MB), kept 10% below it.
const RECORD_MAX_BYTES = 450 * 1024 * 1024;
const FATAL_CODES = {
  unauthorized: 4401,
  "not-found": 4404,
  ended: 4410,
  full: 4429,
};
const CLOSE_MESSAGES = {
  4401: "Your sign-in for this meeting is no longer valid. Reload the page to join again.",
  4403: "This meeting is invite-only. Ask the host to invite you.",
  4404: "That meeting doesn't exist. Check the link or meeting ID.",
  4410: "This meeting has ended.",
  4429: "This meeting is full.",
};
const LOST_CONNECTION = "Lost the connection to the meeting. Check your network and try again.";

// ---------------------------------------------------------------------------------------------
// The heartbeat's clock
//
// Browsers throttle the timers of a hidden tab (Chrome: to once a minute after 5 minutes), which
// would miss the server's 10 s heartbeat and drop whoever switches tabs during a meeting. A
// dedicated worker's timers are not throttled that way, so the ticks come from a tiny worker made
// from a Blob URL; where a worker can't be made (or fails to load), a plain setInterval does.
const TICKER_SOURCE =
  "let t = null; onmessage = (e) => { clearInterval(t); t = null; " +
  "if (e.data && e.data.ms > 0) t = setInterval(() => postMessage(0), e.data.ms); };";

class Ticker {
  constructor(ms, onTick) {
    this.ms = ms;
    this.onTick = onTick;
    this.worker = null;
    this.url = null;
    this.timer = null;
    this.stopped = false;
    this.kind = "timer";
    try {
      this.url = URL.createObjectURL(new Blob([TICKER_SOURCE], { type: "text/javascript" }));
      const worker = new Worker(this.url);
      worker.onmessage = () => {
        if (!this.stopped) this.onTick();
      };
      worker.onerror = (e) => {
        if (e && e.preventDefault) e.preventDefault();
        this.fallBack(); // e.g. a Content-Security-Policy without blob: workers
      };
      worker.postMessage({ ms });
      this.worker = worker;
      this.kind = "worker";
    } catch (_err) {
      this.fallBack();
    }
  }

  fallBack() {
    this.releaseWorker();
    if (this.stopped || this.timer !== null) return;
    this.kind = "timer";
    this.timer = setInterval(() => this.onTick(), this.ms);
  }

  releaseWorker() {
    if (this.worker) {
      this.worker.onmessage = this.worker.onerror = null;
      this.worker.terminate();
      this.worker = null;
    }
    if (this.url) {
      URL.revokeObjectURL(this.url);
      this.url = null;
    }
  }

  stop() {
    this.stopped = true;
    this.releaseWorker();
    clearInterval(this.timer);
    this.timer = null;
  }
}

// ---------------------------------------------------------------------------------------------
// URLs and small helpers

function backendUrl() {
  try {
    return getBackendURL();
  } catch (_err) {
    return new URL(window.location.href);
  }
}

function httpUrl(value, fallbackPath) {
  const raw = value || fallbackPath;
  if (/^https?:\/\//i.test(raw)) return raw;
  return backendUrl().origin + (raw.startsWith("/") ? raw : "/" + raw);
}

function wsUrl(value, fallbackPath) {
  const raw = value || fallbackPath;
  if (/^wss?:\/\//i.test(raw)) return raw.replace(/\/+$/, "");
  if (/^https?:\/\//i.test(raw)) return raw.replace(/^http/i, "ws").replace(/\/+$/, "");
  const base = backendUrl();
  const proto = base.protocol === "https:" || base.protocol === "wss:" ? "wss:" : "ws:";
  return `${proto}//${base.host}${raw.startsWith("/") ? raw : "/" + raw}`.replace(/\/+$/, "");
}

function tokenExpiry(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload + "===".slice((payload.length + 3) % 4)));
    return typeof claims.exp === "number" ? claims.exp : 0;
  } catch (_err) {
    return 0;
  }
}

function messageFrom(body) {
  if (!body || typeof body !== "object") return "";
  const candidates = [body.message, body.error && body.error.message, body.error, body.detail];
  for (const c of candidates) {
    if (typeof c === "string" && c.trim()) return c.trim();
  }
  return "";
}

class CallError extends Error {}

function mediaErrorMessage(err, what) {
  const name = (err && err.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError")
    return `Access to your ${what} was blocked. Allow it in your browser's site settings.`;
  if (name === "NotFoundError" || name === "OverconstrainedError") return `No ${what} was found.`;
  if (name === "NotReadableError" || name === "AbortError")
    return `Your ${what} is in use by another app or can't be started.`;
  return `Your ${what} couldn't be started.`;
}

function hasMediaDevices() {
  return typeof navigator !== "undefined" && !!navigator.mediaDevices && !!navigator.mediaDevices.getUserMedia;
}

function initialsOf(name) {
  const parts = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  return ((parts[0][0] || "") + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

// A small timeline of the call's milestones (join, welcome, offer, connected, first frame), read by
// the browser tests and benchmarks/ to measure join-to-first-frame.
function mark(name, detail) {
  if (typeof window === "undefined") return;
  const list = (window.__yoomTimeline = window.__yoomTimeline || []);
  if (list.length < 500) list.push({ name, detail, t: performance.now() });
}

// ---------------------------------------------------------------------------------------------
// The engine: everything that is not rendering. One per mounted LocalCall.

class MeshEngine {
  constructor(opts) {
    this.callId = opts.callId;
    this.tokenUrl = httpUrl(opts.tokenUrl, "/api/video/token");
    this.wsBase = wsUrl(opts.wsUrl, "/api/rtc");
    this.recordingsUrl = httpUrl("", "/api/recordings");
    this.callbacks = opts.callbacks; // () => latest props (event triggers)
    this.micOn = !opts.startWithMicOff;
    this.camOn = !opts.startWithCameraOff;
    this.screenOn = false;
    this.audioTrack = null;
    this.camTrack = null;
    this.screenTrack = null;
    this.localStream = new MediaStream();
    this.devices = { audioinput: [], videoinput: [] };
    this.selected = { audioinput: "", videoinput: "" };
    this.deviceError = "";
    this.status = "idle"; // idle | connecting | joined | reconnecting | left | ended | failed
    this.destroyed = false;
    this.peers = new Map(); // peer_id -> peer record
    this.pcs = new Map(); // peer_id -> RTCPeerConnection (exposed to tests as window.__yoomPeers)
    this.me = null; // {peerId, user, isOwner}
    this.iceServers = [];
    this.ws = null;
    this.pingTicker = null; // a Ticker (worker clock) while the socket is open
    this.speakerTimer = null;
    this.lastPong = 0;
    this.reconnects = 0;
    this.reconnectTimer = null;
    this.token = null;
    this.tokenPromise = null;
    this.activeSpeaker = null;
    this.recordingBy = null; // peer id of whoever records (indicator)
    this.recorder = null;
    this.recordingBusy = false;
    this.lastCount = -1;
    this.listeners = new Set();
    this.version = 0;
    this.onDeviceChange = () => this.refreshDevices();
    mark("engine");
    this.mediaReady = this.initMedia().then(() => mark("media-ready"));
    this.prefetchToken();
  }

  // --- state for React ---------------------------------------------------------------------

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit() {
    if (this.destroyed) return;
    this.version += 1;
    for (const fn of this.listeners) fn(this.version);
  }

  snapshot() {
    const peers = [];
    for (const p of this.peers.values()) {
      peers.push({
        peerId: p.peerId,
        user: p.user,
        audio: p.audio,
        video: p.video,
        screen: p.screen,
        stream: p.stream,
        speaking: p.speaking,
        connection: p.pc.connectionState,
      });
    }
    return {
      version: this.version,
      status: this.status,
      me: this.me,
      micOn: this.micOn && !!this.audioTrack,
      camOn: this.camOn && !!this.camTrack,
      wantMic: this.micOn,
      wantCam: this.camOn,
      screenOn: this.screenOn,
      localStream: this.localStream,
      peers,
      activeSpeaker: this.activeSpeaker,
      devices: this.devices,
      selected: this.selected,
      deviceError: this.deviceError,
      recordingBy: this.recordingBy,
      recording: !!this.recorder,
      recordingBusy: this.recordingBusy,
      canShareScreen: typeof navigator !== "undefined" && !!navigator.mediaDevices && !!navigator.mediaDevices.getDisplayMedia,
    };
  }

  fire(name, ...args) {
    const cb = this.callbacks()[name];
    if (typeof cb === "function") {
      try {
        cb(...args);
      } catch (err) {
        console.error(`[yoom] ${name} handler failed`, err);
      }
    }
  }

  // --- local media -------------------------------------------------------------------------

  audioConstraints() {
    const c = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    if (this.selected.audioinput) c.deviceId = { exact: this.selected.audioinput };
    return c;
  }

  videoConstraints() {
    const c = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };
    if (this.selected.videoinput) c.deviceId = { exact: this.selected.videoinput };
    return c;
  }

  async initMedia() {
    if (!hasMediaDevices()) {
      this.deviceError = "This browser can't use a camera or microphone here (it needs https or localhost).";
      this.emit();
      return;
    }
    navigator.mediaDevices.addEventListener("devicechange", this.onDeviceChange);
    const errors = [];
    let stream = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: this.audioConstraints(),
        video: this.camOn ? this.videoConstraints() : false,
      });
    } catch (_err) {
      // Ask for each separately: a missing camera must not cost the microphone.
      const parts = [];
      try {
        parts.push(await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() }));
      } catch (err) {
        errors.push(mediaErrorMessage(err, "microphone"));
      }
      if (this.camOn) {
        try {
          parts.push(await navigator.mediaDevices.getUserMedia({ video: this.videoConstraints() }));
        } catch (err) {
          errors.push(mediaErrorMessage(err, "camera"));
          this.camOn = false;
        }
      }
      stream = new MediaStream(parts.flatMap((s) => s.getTracks()));
    }
    if (this.destroyed) {
      stream.getTracks().forEach((t) => t.stop());
      return;
    }
    this.audioTrack = stream.getAudioTracks()[0] || null;
    this.camTrack = stream.getVideoTracks()[0] || null;
    if (this.audioTrack) {
      this.audioTrack.enabled = this.micOn;
      this.selected.audioinput = this.audioTrack.getSettings().deviceId || "";
    }
    if (this.camTrack) {
      this.selected.videoinput = this.camTrack.getSettings().deviceId || "";
      this.watchEnded(this.camTrack, "camera");
    }
    this.deviceError = errors.join(" ");
    this.updateLocalStream();
    await this.refreshDevices();
  }

  watchEnded(track, what) {
    track.addEventListener("ended", () => {
      if (this.destroyed) return;
      if (what === "camera" && this.camTrack === track) {
        this.camTrack = null;
        this.camOn = false;
        this.deviceError = "Your camera stopped.";
        this.updateLocalStream();
        this.replaceOutgoing("video");
        this.sendMedia();
      }
    });
  }

  async refreshDevices() {
    if (!hasMediaDevices() || this.destroyed) return;
    try {
      const all = await navigator.mediaDevices.enumerateDevices();
      const pick = (kind) =>
        all
          .filter((d) => d.kind === kind && d.deviceId)
          .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `${kind === "videoinput" ? "Camera" : "Microphone"} ${i + 1}` }));
      this.devices = { audioinput: pick("audioinput"), videoinput: pick("videoinput") };
    } catch (_err) {
      this.devices = { audioinput: [], videoinput: [] };
    }
    this.emit();
  }

  currentVideoTrack() {
    if (this.screenTrack) return this.screenTrack;
    return this.camOn ? this.camTrack : null;
  }

  updateLocalStream() {
    const track = this.currentVideoTrack();
    this.localStream = new MediaStream(track ? [track] : []);
    this.emit();
  }

  replaceOutgoing(kind) {
    const track = kind === "audio" ? this.audioTrack : this.currentVideoTrack();
    for (const peer of this.peers.values()) {
      for (const t of peer.pc.getTransceivers()) {
        if (t.stopped || !t.receiver || !t.receiver.track || t.receiver.track.kind !== kind) continue;
        if (t.sender.track === track) continue;
        t.sender.replaceTrack(track).catch((err) => console.warn("[yoom] replaceTrack", err));
      }
    }
  }

  async setMic(on) {
    await this.mediaReady;
    if (this.destroyed) return;
    this.micOn = !!on;
    if (this.micOn && !this.audioTrack) {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() });
        if (this.destroyed) return s.getTracks().forEach((t) => t.stop());
        this.audioTrack = s.getAudioTracks()[0] || null;
        this.deviceError = "";
        this.replaceOutgoing("audio");
      } catch (err) {
        this.micOn = false;
        this.deviceError = mediaErrorMessage(err, "microphone");
      }
    }
    if (this.audioTrack) this.audioTrack.enabled = this.micOn;
    this.sendMedia();
    this.emit();
  }

  async setCamera(on) {
    await this.mediaReady;
    if (this.destroyed) return;
    if (!on) {
      this.camOn = false;
      if (this.camTrack) {
        this.camTrack.stop(); // the camera light goes off
        this.camTrack = null;
      }
    } else if (!this.camTrack) {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ video: this.videoConstraints() });
        if (this.destroyed) return s.getTracks().forEach((t) => t.stop());
        this.camTrack = s.getVideoTracks()[0] || null;
        if (this.camTrack) this.watchEnded(this.camTrack, "camera");
        this.camOn = !!this.camTrack;
        this.deviceError = "";
        if (!this.selected.videoinput && this.camTrack) this.selected.videoinput = this.camTrack.getSettings().deviceId || "";
        this.refreshDevices();
      } catch (err) {
        this.camOn = false;
        this.deviceError = mediaErrorMessage(err, "camera");
      }
    } else {
      this.camOn = true;
    }
    this.updateLocalStream();
    this.replaceOutgoing("video");
    this.sendMedia();
  }

  async selectDevice(kind, deviceId) {
    await this.mediaReady;
    if (this.destroyed || !deviceId || this.selected[kind] === deviceId) return;
    this.selected = { ...this.selected, [kind]: deviceId };
    try {
      if (kind === "audioinput") {
        const s = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() });
        if (this.destroyed) return s.getTracks().forEach((t) => t.stop());
        const old = this.audioTrack;
        this.audioTrack = s.getAudioTracks()[0] || null;
        if (this.audioTrack) this.audioTrack.enabled = this.micOn;
        this.replaceOutgoing("audio");
        if (old) old.stop();
      } else if (kind === "videoinput" && this.camOn) {
        const old = this.camTrack;
        if (old) old.stop(); // some cameras can't be opened twice
        const s = await navigator.mediaDevices.getUserMedia({ video: this.videoConstraints() });
        if (this.destroyed) return s.getTracks().forEach((t) => t.stop());
        this.camTrack = s.getVideoTracks()[0] || null;
        if (this.camTrack) this.watchEnded(this.camTrack, "camera");
        this.updateLocalStream();
        this.replaceOutgoing("video");
      }
      this.deviceError = "";
    } catch (err) {
      this.deviceError = mediaErrorMessage(err, kind === "audioinput" ? "microphone" : "camera");
    }
    this.emit();
  }

  async setScreenShare(on) {
    if (this.destroyed) return;
    if (!on) {
      if (this.screenTrack) {
        const t = this.screenTrack;
        this.screenTrack = null;
        t.stop();
      }
      this.screenOn = false;
    } else {
      if (this.screenTrack) return;
      if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) {
        this.deviceError = "This browser can't share its screen.";
        this.emit();
        return;
      }
      let s;
      try {
        s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
      } catch (err) {
        if (err && err.name !== "NotAllowedError" && err.name !== "AbortError") {
          this.deviceError = "Screen sharing couldn't start.";
          this.emit();
        }
        return; // the person cancelled the picker
      }
      if (this.destroyed) return s.getTracks().forEach((t) => t.stop());
      this.screenTrack = s.getVideoTracks()[0] || null;
      if (!this.screenTrack) return;
      if ("contentHint" in this.screenTrack) this.screenTrack.contentHint = "detail";
      this.screenTrack.addEventListener("ended", () => {
        if (this.screenTrack) this.setScreenShare(false); // "Stop sharing" in the browser's bar
      });
      this.screenOn = true;
    }
    this.updateLocalStream();
    this.replaceOutgoing("video");
    this.sendMedia();
  }

  // --- token -------------------------------------------------------------------------------

  prefetchToken() {
    // Fetched during setup so "Join meeting" only has to open the socket.
    this.tokenPromise = this.fetchToken().then(
      (info) => {
        this.token = info;
        return info;
      },
      (err) => {
        this.tokenPromise = null;
        throw err;
      }
    );
    this.tokenPromise.catch(() => {});
  }

  async fetchToken() {
    let res;
    try {
      // No body and no custom header: a "simple" request, so no CORS preflight in development.
      // The token is for the signed-in user (the session cookie); the call is checked at the socket.
      res = await fetch(this.tokenUrl, { method: "POST", credentials: "include" });
    } catch (_err) {
      throw new CallError("Can't reach Yoom's server. Check your connection and try again.");
    }
    let body = null;
    try {
      body = await res.json();
    } catch (_err) {
      body = null;
    }
    if (!res.ok || !body || typeof body.token !== "string") {
      if (res.status === 401) throw new CallError(messageFrom(body) || "You're signed out. Sign in again to join.");
      throw new CallError(messageFrom(body) || `Couldn't get a video token (HTTP ${res.status}).`);
    }
    return body;
  }

  async getToken(fresh) {
    const now = Date.now() / 1000;
    if (!fresh && this.token && tokenExpiry(this.token.token) - now > TOKEN_MIN_LIFETIME_S) return this.token;
    if (!fresh && this.tokenPromise) {
      try {
        const info = await this.tokenPromise;
        if (tokenExpiry(info.token) - Date.now() / 1000 > TOKEN_MIN_LIFETIME_S) return info;
      } catch (_err) {
        // fetch again below
      }
    }
    this.token = await this.fetchToken();
    return this.token;
  }

  // --- signaling ---------------------------------------------------------------------------

  async join() {
    if (this.destroyed || this.status !== "idle") return;
    this.status = "connecting";
    window.__yoomJoinRequestedAt = performance.now();
    mark("join");
    this.emit();
    await this.mediaReady;
    if (this.destroyed) return;
    await this.connect(false);
  }

  async connect(fresh) {
    if (this.destroyed || !["connecting", "reconnecting"].includes(this.status)) return;
    let info;
    try {
      info = await this.getToken(fresh);
    } catch (err) {
      if (this.status === "reconnecting" && /reach/.test(err.message)) return this.scheduleReconnect();
      return this.fail(err.message || LOST_CONNECTION);
    }
    if (this.destroyed || !["connecting", "reconnecting"].includes(this.status)) return;
    this.iceServers = Array.isArray(info.ice_servers) ? info.ice_servers : [];
    if (Number.isFinite(info.recording_max_bytes) && info.recording_max_bytes > 0) {
      this.recordMaxBytes = Math.floor(info.recording_max_bytes * 0.9);
    }
    // The token goes in the first frame, not the URL (URLs end up in access logs).
    const url = `${this.wsBase}/${encodeURIComponent(this.callId)}`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (_err) {
      return this.fail(LOST_CONNECTION);
    }
    this.ws = ws;
    mark("ws-open-start");
    ws.onopen = () => {
      if (this.ws !== ws) return;
      mark("ws-open");
      ws.send(JSON.stringify({ type: "auth", token: info.token }));
      this.lastPong = Date.now();
      this.stopPing();
      this.pingTicker = new Ticker(PING_MS, () => this.ping(ws));
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch (_err) {
        return;
      }
      if (msg && typeof msg.type === "string") this.onFrame(msg);
    };
    ws.onclose = (e) => this.onClose(ws, e);
  }

  stopPing() {
    if (this.pingTicker) this.pingTicker.stop();
    this.pingTicker = null;
  }

  ping(ws) {
    if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastPong > PONG_TIMEOUT_MS) {
      ws.close(); // the server stopped answering: reconnect
      return;
    }
    ws.send(JSON.stringify({ type: "ping" }));
  }

  send(frame) {
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }

  sendMedia() {
    this.send({ type: "media", audio: this.micOn && !!this.audioTrack, video: this.camOn && !!this.camTrack, screen: this.screenOn });
  }

  onFrame(msg) {
    switch (msg.type) {
      case "welcome": {
        mark("welcome", (msg.peers || []).length);
        this.me = { peerId: msg.peer_id, user: msg.user || {}, isOwner: !!msg.is_owner };
        if (Array.isArray(msg.ice_servers) && msg.ice_servers.length) this.iceServers = msg.ice_servers;
        this.status = "joined";
        this.reconnects = 0;
        this.lastPong = Date.now();
        window.__yoomPeers = this.pcs;
        window.__yoomCall = this; // for tests and benchmarks (e.g. dropping the socket)
        this.sendMedia();
        if (this.recorder) this.send({ type: "recording", active: true });
        for (const p of Array.isArray(msg.peers) ? msg.peers : []) {
          if (p && p.peer_id) this.createPeer(p, true);
        }
        this.startSpeakerPoll();
        this.emit();
        this.fire("onJoined");
        this.countChanged();
        break;
      }
      case "peer-joined":
        if (msg.peer && msg.peer.peer_id && !this.peers.has(msg.peer.peer_id)) {
          this.createPeer(msg.peer, false);
          this.emit();
          this.countChanged();
        }
        break;
      case "peer-left":
        if (this.peers.has(msg.peer_id)) {
          this.closePeer(msg.peer_id);
          if (this.recordingBy === msg.peer_id) this.recordingBy = null;
          this.emit();
          this.countChanged();
        }
        break;
      case "signal":
        this.onSignal(msg.from, msg.data || {});
        break;
      case "media": {
        const p = this.peers.get(msg.peer_id);
        if (p) {
          p.audio = !!msg.audio;
          p.video = !!msg.video;
          p.screen = !!msg.screen;
          this.emit();
        }
        break;
      }
      case "recording":
        this.recordingBy = msg.active ? msg.peer_id : this.recordingBy === msg.peer_id ? null : this.recordingBy;
        this.emit();
        break;
      case "call-ended":
        this.finish("ended");
        this.fire("onCallEnded");
        break;
      case "pong":
        this.lastPong = Date.now();
        break;
      case "error":
        this.onServerError(msg);
        break;
      default:
        break;
    }
  }

  onServerError(msg) {
    const code = msg.code;
    const message = typeof msg.message === "string" && msg.message ? msg.message : "";
    if (code === "ended") {
      this.finish("ended");
      this.fire("onCallEnded");
    } else if (code in FATAL_CODES) {
      this.fail(message || CLOSE_MESSAGES[FATAL_CODES[code]]);
    } else {
      console.warn("[yoom] signaling:", code, message);
    }
  }

  onClose(ws, e) {
    if (this.ws !== ws) return;
    this.stopPing();
    this.ws = null;
    if (this.destroyed || ["left", "ended", "failed"].includes(this.status)) return;
    if (e.code === 4000 || e.code === 4410) {
      this.finish("ended");
      this.fire("onCallEnded");
      return;
    }
    // Normally the error frame came first (with the server's own words); this is the fallback.
    if (CLOSE_MESSAGES[e.code]) return this.fail(CLOSE_MESSAGES[e.code]);
    // A dropped network or a restarted server: join again with a fresh token, a few times.
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.destroyed) return;
    this.closeAllPeers();
    this.status = "reconnecting";
    this.emit();
    this.countChanged();
    this.reconnects += 1;
    if (this.reconnects > MAX_RECONNECTS) return this.fail(LOST_CONNECTION);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(true), Math.min(1000 * this.reconnects, 5000));
  }

  // --- peer connections --------------------------------------------------------------------

  createPeer(info, initiator) {
    const peerId = info.peer_id;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    const peer = {
      peerId,
      user: info.user || { id: "", name: "Guest" },
      audio: !!info.audio,
      video: !!info.video,
      screen: !!info.screen,
      pc,
      initiator,
      stream: new MediaStream(),
      chain: Promise.resolve(),
      sendersReady: initiator,
      speaking: false,
    };
    this.peers.set(peerId, peer);
    this.pcs.set(peerId, pc);
    pc.onicecandidate = (e) => {
      if (e.candidate) this.send({ type: "signal", to: peerId, data: { candidate: e.candidate.toJSON() } });
    };
    pc.ontrack = (e) => {
      mark("track", e.track.kind);
      const others = peer.stream.getTracks().filter((t) => t.kind !== e.track.kind);
      peer.stream = new MediaStream([...others, e.track]);
      this.emit();
    };
    pc.onconnectionstatechange = () => {
      mark("pc-" + pc.connectionState, peerId);
      if (pc.connectionState === "connected") this.tuneSenders();
      if (pc.connectionState === "failed" && peer.initiator && this.peers.get(peerId) === peer) {
        peer.chain = peer.chain.then(() => this.makeOffer(peer, true)).catch((err) => console.warn("[yoom] ICE restart", err));
      }
      this.emit();
    };
    if (initiator) {
      // Fixed transceivers (audio, video) for the whole call: toggles and screen share use
      // replaceTrack, so nothing is renegotiated and there is no glare to resolve.
      pc.addTransceiver(this.audioTrack || "audio", { direction: "sendrecv" });
      pc.addTransceiver(this.currentVideoTrack() || "video", { direction: "sendrecv" });
      peer.chain = peer.chain.then(() => this.makeOffer(peer, false)).catch((err) => console.warn("[yoom] offer", err));
    }
    return peer;
  }

  async makeOffer(peer, iceRestart) {
    if (this.peers.get(peer.peerId) !== peer) return;
    const offer = await peer.pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
    await peer.pc.setLocalDescription(offer);
    mark("offer-sent", peer.peerId);
    this.send({ type: "signal", to: peer.peerId, data: { sdp: { type: peer.pc.localDescription.type, sdp: peer.pc.localDescription.sdp } } });
  }

  async attachSenders(peer) {
    const jobs = [];
    for (const t of peer.pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      t.direction = "sendrecv";
      jobs.push(t.sender.replaceTrack(kind === "audio" ? this.audioTrack : this.currentVideoTrack()));
    }
    await Promise.all(jobs);
    peer.sendersReady = true;
  }

  onSignal(from, data) {
    let peer = this.peers.get(from);
    if (!peer) {
      if (!(data.sdp && data.sdp.type === "offer")) return;
      peer = this.createPeer({ peer_id: from, user: { id: "", name: "Guest" } }, false);
      this.emit();
      this.countChanged();
    }
    const pc = peer.pc;
    peer.chain = peer.chain
      .then(async () => {
        if (this.peers.get(from) !== peer) return;
        if (data.sdp && typeof data.sdp.sdp === "string") {
          if (data.sdp.type === "offer") {
            if (pc.signalingState !== "stable") {
              if (peer.initiator) return; // only our side offers to this peer: ignore theirs
              await pc.setLocalDescription({ type: "rollback" });
            }
            mark("offer-received", from);
            await pc.setRemoteDescription(data.sdp);
            if (!peer.sendersReady) await this.attachSenders(peer);
            const answer = await pc.createAnswer();
            await pc.setLocalDescription(answer);
            this.send({ type: "signal", to: from, data: { sdp: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } } });
          } else if (data.sdp.type === "answer") {
            mark("answer-received", from);
            if (pc.signalingState === "have-local-offer") await pc.setRemoteDescription(data.sdp);
          }
        } else if (data.candidate && typeof data.candidate === "object") {
          try {
            await pc.addIceCandidate(data.candidate);
          } catch (err) {
            console.warn("[yoom] ICE candidate", err);
          }
        }
      })
      .catch((err) => console.warn("[yoom] signal", err));
  }

  closePeer(peerId) {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.peers.delete(peerId);
    this.pcs.delete(peerId);
    try {
      peer.pc.close();
    } catch (_err) {
      // already closed
    }
    if (this.activeSpeaker === peerId) this.activeSpeaker = null;
  }

  closeAllPeers() {
    for (const id of [...this.peers.keys()]) this.closePeer(id);
  }

  // Every other person gets their own encode of my camera (a mesh), so the more people, the
  // lighter each encode: this bounds both upload bandwidth and CPU per participant.
  tuneSenders() {
    const others = this.peers.size;
    const limits =
      others >= 3
        ? { maxBitrate: 350000, maxFramerate: 15 }
        : others === 2
          ? { maxBitrate: 600000, maxFramerate: 20 }
          : { maxBitrate: 1200000, maxFramerate: 30 };
    for (const peer of this.peers.values()) {
      for (const t of peer.pc.getTransceivers()) {
        if (t.stopped || !t.receiver || !t.receiver.track || t.receiver.track.kind !== "video") continue;
        const params = t.sender.getParameters();
        if (!params.encodings || !params.encodings.length) continue; // not negotiated yet
        const e = params.encodings[0];
        if (e.maxBitrate === limits.maxBitrate && e.maxFramerate === limits.maxFramerate) continue;
        e.maxBitrate = limits.maxBitrate;
        e.maxFramerate = limits.maxFramerate;
        t.sender.setParameters(params).catch((err) => console.warn("[yoom] setParameters", err));
      }
    }
  }

  countChanged() {
    this.tuneSenders();
    const count = this.status === "joined" ? this.peers.size + 1 : 0;
    if (count !== this.lastCount) {
      this.lastCount = count;
      this.fire("onParticipantsChange", count);
    }
  }

  startSpeakerPoll() {
    clearInterval(this.speakerTimer);
    this.speakerTimer = setInterval(() => {
      let loudest = null;
      let best = 0.04;
      let changed = false;
      for (const peer of this.peers.values()) {
        let level = 0;
        for (const r of peer.pc.getReceivers()) {
          if (r.track && r.track.kind === "audio" && r.getSynchronizationSources) {
            for (const s of r.getSynchronizationSources()) level = Math.max(level, s.audioLevel || 0);
          }
        }
        const speaking = peer.audio && level > 0.04;
        if (speaking !== peer.speaking) {
          peer.speaking = speaking;
          changed = true;
        }
        if (speaking && level > best) {
          best = level;
          loudest = peer.peerId;
        }
      }
      if (loudest && loudest !== this.activeSpeaker) {
        this.activeSpeaker = loudest;
        changed = true;
      }
      if (changed) this.emit();
    }, SPEAKER_POLL_MS);
  }

  // --- ending ------------------------------------------------------------------------------

  teardownNetwork() {
    this.stopPing();
    clearInterval(this.speakerTimer);
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "leave" }));
        ws.close(1000);
      } catch (_err) {
        // closing anyway
      }
    }
    this.closeAllPeers();
  }

  stopMedia() {
    for (const t of [this.audioTrack, this.camTrack, this.screenTrack]) if (t) t.stop();
    this.audioTrack = this.camTrack = this.screenTrack = null;
    this.localStream = new MediaStream();
  }

  finish(status) {
    if (this.recorder) this.stopRecording(); // upload what was recorded
    this.status = status;
    this.teardownNetwork();
    this.stopMedia();
    this.emit();
    this.countChanged();
  }

  fail(message) {
    if (this.destroyed || ["left", "ended", "failed"].includes(this.status)) return;
    this.finish("failed");
    this.fire("onError", message || LOST_CONNECTION);
  }

  async leave() {
    if (this.destroyed || ["left", "ended", "failed"].includes(this.status)) return;
    const pending = this.recorder ? this.stopRecording() : null;
    this.finish("left");
    if (pending) await pending;
    this.fire("onLeft");
  }

  destroy() {
    if (this.destroyed) return;
    if (this.recorder) this.stopRecording();
    this.teardownNetwork();
    this.stopMedia();
    this.destroyed = true;
    this.status = this.status === "idle" ? "idle" : "left";
    this.listeners.clear();
    if (hasMediaDevices()) navigator.mediaDevices.removeEventListener("devicechange", this.onDeviceChange);
    if (window.__yoomPeers === this.pcs) window.__yoomPeers = new Map();
    if (window.__yoomCall === this) window.__yoomCall = null;
  }

  // --- recording (the host's browser records the meeting, then uploads it) -----------------

  recordTiles() {
    const tiles = [];
    const myVideo = this.currentVideoTrack();
    tiles.push({
      key: "me",
      name: (this.me && this.me.user && this.me.user.name) || "You",
      track: myVideo,
      on: !!myVideo,
    });
    for (const p of this.peers.values()) {
      const track = p.stream.getVideoTracks()[0] || null;
      tiles.push({ key: p.peerId, name: (p.user && p.user.name) || "Guest", track, on: !!track && (p.video || p.screen) });
    }
    return tiles;
  }

  recordAudioTracks() {
    const tracks = [];
    if (this.audioTrack) tracks.push(this.audioTrack);
    for (const p of this.peers.values()) for (const t of p.stream.getAudioTracks()) tracks.push(t);
    return tracks;
  }

  async startRecording() {
    if (this.recorder || this.recordingBusy || this.status !== "joined") return;
    if (typeof MediaRecorder === "undefined") {
      this.fire("onRecordingError", "This browser can't record meetings.");
      return;
    }
    const canvas = document.createElement("canvas");
    canvas.width = 1280;
    canvas.height = 720;
    const g = canvas.getContext("2d");
    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    const audioCtx = new AudioCtx();
    if (audioCtx.state === "suspended") audioCtx.resume().catch(() => {});
    const dest = audioCtx.createMediaStreamDestination();
    const sources = new Map(); // track id -> source node
    const videos = new Map(); // tile key -> {el, trackId}

    const draw = () => {
      // Mix every audio track present now (people come and go while recording).
      const live = new Set();
      for (const t of this.recordAudioTracks()) {
        live.add(t.id);
        if (!sources.has(t.id)) {
          try {
            const node = audioCtx.createMediaStreamSource(new MediaStream([t]));
            node.connect(dest);
            sources.set(t.id, node);
          } catch (_err) {
            // a track that ended between listing and connecting
          }
        }
      }
      for (const [id, node] of sources) {
        if (!live.has(id)) {
          node.disconnect();
          sources.delete(id);
        }
      }
      // Draw the tiles as a grid.
      const tiles = this.recordTiles();
      const n = tiles.length;
      const cols = Math.ceil(Math.sqrt(n));
      const rows = Math.ceil(n / cols);
      const gap = 8;
      const w = (canvas.width - gap * (cols + 1)) / cols;
      const h = (canvas.height - gap * (rows + 1)) / rows;
      g.fillStyle = "#161925";
      g.fillRect(0, 0, canvas.width, canvas.height);
      const seen = new Set();
      tiles.forEach((tile, i) => {
        const x = gap + (i % cols) * (w + gap);
        const y = gap + Math.floor(i / cols) * (h + gap);
        g.fillStyle = "#252A41";
        g.fillRect(x, y, w, h);
        seen.add(tile.key);
        let entry = videos.get(tile.key);
        if (tile.track && (!entry || entry.trackId !== tile.track.id)) {
          const el = entry ? entry.el : document.createElement("video");
          el.muted = true;
          el.playsInline = true;
          el.srcObject = new MediaStream([tile.track]);
          el.play().catch(() => {});
          entry = { el, trackId: tile.track.id };
          videos.set(tile.key, entry);
        }
        const el = entry && entry.el;
        if (tile.on && el && el.videoWidth > 0) {
          const scale = Math.min(w / el.videoWidth, h / el.videoHeight);
          const dw = el.videoWidth * scale;
          const dh = el.videoHeight * scale;
          g.drawImage(el, x + (w - dw) / 2, y + (h - dh) / 2, dw, dh);
        } else {
          g.fillStyle = "#0E78F9";
          const r = Math.min(w, h) / 6;
          g.beginPath();
          g.arc(x + w / 2, y + h / 2, r, 0, Math.PI * 2);
          g.fill();
          g.fillStyle = "#ffffff";
          g.font = `${Math.round(r * 0.8)}px sans-serif`;
          g.textAlign = "center";
          g.textBaseline = "middle";
          g.fillText(initialsOf(tile.name), x + w / 2, y + h / 2);
        }
        g.fillStyle = "rgba(0,0,0,0.55)";
        g.fillRect(x + 8, y + h - 34, Math.min(w - 16, 14 + tile.name.length * 9), 26);
        g.fillStyle = "#ffffff";
        g.font = "16px sans-serif";
        g.textAlign = "left";
        g.textBaseline = "middle";
        g.fillText(tile.name, x + 15, y + h - 21, w - 30);
      });
      for (const [key, entry] of videos) {
        if (!seen.has(key)) {
          entry.el.srcObject = null;
          videos.delete(key);
        }
      }
    };

    draw();
    const timer = setInterval(draw, Math.round(1000 / RECORD_FPS));
    const out = new MediaStream([...canvas.captureStream(RECORD_FPS).getVideoTracks(), ...dest.stream.getAudioTracks()]);
    const types = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm"];
    const mimeType = types.find((t) => MediaRecorder.isTypeSupported(t)) || "";
    let rec;
    try {
      rec = new MediaRecorder(out, mimeType ? { mimeType, videoBitsPerSecond: RECORD_VIDEO_BPS } : undefined);
    } catch (_err) {
      clearInterval(timer);
      audioCtx.close().catch(() => {});
      this.fire("onRecordingError", "Recording couldn't start in this browser.");
      return;
    }
    const chunks = [];
    let recorded = 0;
    rec.ondataavailable = (e) => {
      if (!e.data || !e.data.size) return;
      chunks.push(e.data);
      recorded += e.data.size;
      if (recorded > (this.recordMaxBytes || RECORD_MAX_BYTES) && this.recorder && this.recorder.rec === rec) {
        this.fire("onRecordingError", "The recording reached its size limit and was stopped. It is being saved.");
        this.stopRecording();
      }
    };
    rec.start(1000);
    this.recorder = { rec, chunks, timer, audioCtx, videos, out, startedAt: new Date() };
    this.recordingBy = this.me && this.me.peerId;
    this.send({ type: "recording", active: true });
    this.emit();
  }

  async stopRecording() {
    const r = this.recorder;
    if (!r) return;
    this.recorder = null;
    this.recordingBusy = true;
    if (this.me && this.recordingBy === this.me.peerId) this.recordingBy = null;
    this.send({ type: "recording", active: false });
    this.emit();
    await new Promise((resolve) => {
      r.rec.onstop = resolve;
      try {
        r.rec.stop();
      } catch (_err) {
        resolve();
      }
    });
    const endedAt = new Date();
    clearInterval(r.timer);
    r.out.getTracks().forEach((t) => t.stop());
    for (const { el } of r.videos.values()) el.srcObject = null;
    r.audioCtx.close().catch(() => {});
    const blob = new Blob(r.chunks, { type: "video/webm" });
    try {
      if (!blob.size) throw new CallError("Nothing was recorded.");
      const q = new URLSearchParams({
        call_id: this.callId,
        started_at: r.startedAt.toISOString(),
        ended_at: endedAt.toISOString(),
      });
      let res;
      try {
        res = await fetch(`${this.recordingsUrl}?${q}`, {
          method: "POST",
          credentials: "include",
          headers: { "Content-Type": "video/webm" },
          body: blob,
        });
      } catch (_err) {
        throw new CallError("The recording couldn't be uploaded: Yoom's server can't be reached.");
      }
      if (!res.ok) {
        let body = null;
        try {
          body = await res.json();
        } catch (_err) {
          body = null;
        }
        throw new CallError(messageFrom(body) || `The recording couldn't be saved (HTTP ${res.status}).`);
      }
      this.fire("onRecordingSaved");
    } catch (err) {
      this.fire("onRecordingError", err instanceof CallError ? err.message : "The recording couldn't be saved.");
    } finally {
      this.recordingBusy = false;
      this.emit();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// React: the provider and the components that read it

const LocalCallContext = createContext(null);

function useLocalCall() {
  return useContext(LocalCallContext);
}

const CSS = `
.yoom-lm { color: #fff; font-family: inherit; }
.yoom-lm-tile { position: relative; background: #252A41; border-radius: 12px; overflow: hidden; min-height: 0; min-width: 0; }
.yoom-lm-tile video { width: 100%; height: 100%; object-fit: cover; display: block; background: #161925; }
.yoom-lm-tile.yoom-lm-screen video { object-fit: contain; }
.yoom-lm-tile.yoom-lm-speaking { box-shadow: 0 0 0 3px #0E78F9 inset; }
.yoom-lm-avatar { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; background: #252A41; }
.yoom-lm-avatar span { width: 72px; height: 72px; border-radius: 50%; background: #0E78F9; display: flex; align-items: center; justify-content: center; font-size: 28px; font-weight: 600; }
.yoom-lm-label { position: absolute; left: 8px; bottom: 8px; display: flex; align-items: center; gap: 6px; max-width: calc(100% - 16px); padding: 4px 8px; border-radius: 8px; background: rgba(0,0,0,0.55); font-size: 13px; }
.yoom-lm-label b { font-weight: 500; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.yoom-lm-muted { color: #ff6b6b; display: inline-flex; }
.yoom-lm-grid { display: grid; gap: 8px; width: 100%; height: 100%; grid-template-columns: repeat(var(--cols), minmax(0, 1fr)); grid-template-rows: repeat(var(--rows), minmax(0, 1fr)); }
.yoom-lm-speakerlayout { display: flex; gap: 8px; width: 100%; height: 100%; }
.yoom-lm-speakerlayout.yoom-lm-right { flex-direction: row-reverse; }
.yoom-lm-main { flex: 1; min-width: 0; display: flex; }
.yoom-lm-main > .yoom-lm-tile { flex: 1; }
.yoom-lm-bar { width: 220px; flex: none; display: flex; flex-direction: column; gap: 8px; overflow-y: auto; }
.yoom-lm-bar > .yoom-lm-tile { aspect-ratio: 16 / 9; flex: none; }
.yoom-lm-status { position: absolute; top: 12px; left: 50%; transform: translateX(-50%); padding: 6px 14px; border-radius: 999px; background: rgba(22,25,37,0.85); font-size: 13px; z-index: 2; }
.yoom-lm-rec { position: absolute; top: 12px; right: 12px; display: flex; gap: 6px; align-items: center; padding: 4px 10px; border-radius: 999px; background: rgba(220,38,38,0.9); font-size: 12px; font-weight: 600; z-index: 2; }
.yoom-lm-controls { display: flex; flex-wrap: wrap; gap: 10px; justify-content: center; align-items: center; }
.yoom-lm-btn { width: 44px; height: 44px; border-radius: 50%; border: none; cursor: pointer; display: inline-flex; align-items: center; justify-content: center; background: #19232d; color: #fff; transition: background 0.15s; }
.yoom-lm-btn:hover { background: #4c535b; }
.yoom-lm-btn:focus-visible { outline: 2px solid #0E78F9; outline-offset: 2px; }
.yoom-lm-btn.yoom-lm-off { background: #dc2626; }
.yoom-lm-btn.yoom-lm-active { background: #0E78F9; }
.yoom-lm-btn .yoom-lm-recdot { color: #ef4444; display: inline-flex; }
.yoom-lm-btn.yoom-lm-leave { background: #dc2626; width: 56px; border-radius: 22px; }
.yoom-lm-btn:disabled { opacity: 0.5; cursor: default; }
.yoom-lm-preview { position: relative; width: 100%; max-width: 640px; aspect-ratio: 16 / 9; border-radius: 12px; overflow: hidden; background: #252A41; }
.yoom-lm-preview video { width: 100%; height: 100%; object-fit: cover; display: block; }
.yoom-lm-note { font-size: 13px; color: #fca5a5; margin-top: 8px; }
.yoom-lm-devices { display: flex; flex-wrap: wrap; gap: 12px; }
.yoom-lm-devices label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: #c9ddff; }
.yoom-lm-devices select { min-width: 200px; max-width: 280px; padding: 6px 8px; border-radius: 8px; background: #252A41; color: #fff; border: 1px solid #3a4160; }
.yoom-lm-list { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
.yoom-lm-list li { display: flex; align-items: center; gap: 10px; padding: 8px 10px; border-radius: 8px; background: #252A41; font-size: 14px; }
.yoom-lm-list .yoom-lm-name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.yoom-lm-list .yoom-lm-dot { width: 28px; height: 28px; flex: none; border-radius: 50%; background: #0E78F9; display: flex; align-items: center; justify-content: center; font-size: 12px; font-weight: 600; }
.yoom-lm-icons { display: inline-flex; gap: 6px; color: #c9ddff; }
.yoom-lm-icons .yoom-lm-off { color: #ff6b6b; }
@media (max-width: 640px) {
  .yoom-lm-grid { display: flex; flex-direction: column; overflow-y: auto; }
  .yoom-lm-grid > .yoom-lm-tile { flex: none; width: 100%; aspect-ratio: 4 / 3; }
  .yoom-lm-speakerlayout, .yoom-lm-speakerlayout.yoom-lm-right { flex-direction: column; }
  .yoom-lm-bar { width: 100%; flex-direction: row; overflow-x: auto; overflow-y: hidden; }
  .yoom-lm-bar > .yoom-lm-tile { width: 140px; }
  .yoom-lm-btn { width: 40px; height: 40px; }
  .yoom-lm-devices select { min-width: 0; width: 100%; }
}
`;

function useStyles() {
  useEffect(() => {
    if (document.getElementById("yoom-local-meeting-css")) return;
    const el = document.createElement("style");
    el.id = "yoom-local-meeting-css";
    el.textContent = CSS;
    document.head.appendChild(el);
  }, []);
}

export function LocalCall({
  callId,
  tokenUrl,
  wsUrl: wsBase,
  startWithMicOff = false,
  startWithCameraOff = false,
  joined = false,
  children,
  ...handlers
}) {
  useStyles();
  const latest = useRef({});
  latest.current = handlers;
  const [engine, setEngine] = useState(null);
  const [, setVersion] = useState(0);

  // One engine per call; StrictMode's mount → unmount → mount makes a second one and
  // destroys the first, which stops its tracks and closes its socket.
  useEffect(() => {
    if (!callId) return undefined;
    const e = new MeshEngine({
      callId,
      tokenUrl,
      wsUrl: wsBase,
      startWithMicOff,
      startWithCameraOff,
      callbacks: () => latest.current,
    });
    const unsubscribe = e.subscribe((v) => setVersion(v));
    setEngine(e);
    return () => {
      unsubscribe();
      e.destroy();
      setEngine((current) => (current === e ? null : current));
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [callId, tokenUrl, wsBase]);

  // Before joining, the setup screen's "join with mic and camera off" drives the preview
  // (the engine starts with the values it was created with; only changes are applied).
  const requested = useRef({ engine: null, mic: startWithMicOff, cam: startWithCameraOff });
  useEffect(() => {
    const r = requested.current;
    if (!engine) return;
    if (r.engine !== engine) {
      requested.current = { engine, mic: startWithMicOff, cam: startWithCameraOff };
      return;
    }
    if (engine.status !== "idle") return;
    if (r.mic !== startWithMicOff) engine.setMic(!startWithMicOff);
    if (r.cam !== startWithCameraOff) engine.setCamera(!startWithCameraOff);
    requested.current = { engine, mic: startWithMicOff, cam: startWithCameraOff };
  }, [engine, startWithMicOff, startWithCameraOff]);

  useEffect(() => {
    if (engine && joined) engine.join();
  }, [engine, joined]);

  const snap = engine ? engine.snapshot() : null;
  const value = useMemo(() => ({ engine, snap }), [engine, snap && snap.version]); // eslint-disable-line react-hooks/exhaustive-deps
  return <LocalCallContext.Provider value={value}>{children}</LocalCallContext.Provider>;
}

function StreamVideo({ stream, muted = false, mirrored = false, testId, firstFrameMark }) {
  const ref = useRef(null);
  useEffect(() => {
    // Let go of the stream when the element goes: a removed <video> keeps its player (and the
    // camera's capture buffers) until garbage collection, which can stall the camera for seconds.
    const el = ref.current;
    return () => {
      if (!el) return;
      try {
        el.pause();
      } catch (_err) {
        // not playing
      }
      el.srcObject = null;
    };
  }, []);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    el.muted = muted;
    if (el.srcObject !== stream) el.srcObject = stream || null;
    let unmuteOnClick = null;
    if (stream) {
      const p = el.play();
      if (p && p.catch) {
        p.catch((err) => {
          if (err && err.name === "NotAllowedError" && !el.muted) {
            // Autoplay with sound was refused: show the video now, sound after the next click.
            el.muted = true;
            el.play().catch(() => {});
            unmuteOnClick = () => {
              el.muted = false;
            };
            document.addEventListener("click", unmuteOnClick, { once: true });
          }
        });
      }
      if (firstFrameMark && el.requestVideoFrameCallback) {
        el.requestVideoFrameCallback(() => {
          if (window[firstFrameMark] == null) window[firstFrameMark] = performance.now();
          mark("first-frame");
        });
      }
    }
    return () => {
      if (unmuteOnClick) document.removeEventListener("click", unmuteOnClick);
    };
  }, [stream, muted, firstFrameMark]);
  return (
    <video
      ref={ref}
      autoPlay
      playsInline
      muted={muted}
      data-testid={testId}
      style={mirrored ? { transform: "scaleX(-1)" } : undefined}
    />
  );
}

// --- icons (paths from Lucide, ISC license) ---

const ICONS = {
  mic: [["path", { d: "M12 19v3" }], ["path", { d: "M19 10v2a7 7 0 0 1-14 0v-2" }], ["rect", { x: 9, y: 2, width: 6, height: 13, rx: 3 }]],
  micOff: [
    ["path", { d: "M12 19v3" }],
    ["path", { d: "M15 9.34V5a3 3 0 0 0-5.68-1.33" }],
    ["path", { d: "M16.95 16.95A7 7 0 0 1 5 12v-2" }],
    ["path", { d: "M18.89 13.23A7 7 0 0 0 19 12v-2" }],
    ["path", { d: "m2 2 20 20" }],
    ["path", { d: "M9 9v3a3 3 0 0 0 5.12 2.12" }],
  ],
  video: [["path", { d: "m16 13 5.223 3.482a.5.5 0 0 0 .777-.416V7.87a.5.5 0 0 0-.752-.432L16 10.5" }], ["rect", { x: 2, y: 6, width: 14, height: 12, rx: 2 }]],
  videoOff: [
    ["path", { d: "M10.66 6H14a2 2 0 0 1 2 2v2.5l5.248-3.062A.5.5 0 0 1 22 7.87v8.196" }],
    ["path", { d: "M16 16a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h2" }],
    ["path", { d: "m2 2 20 20" }],
  ],
  screen: [
    ["path", { d: "m9 10 3-3 3 3" }],
    ["path", { d: "M12 13V7" }],
    ["rect", { width: 20, height: 14, x: 2, y: 3, rx: 2 }],
    ["path", { d: "M12 17v4" }],
    ["path", { d: "M8 21h8" }],
  ],
  screenOff: [
    ["path", { d: "m14.5 12.5-5-5" }],
    ["path", { d: "m9.5 12.5 5-5" }],
    ["rect", { width: 20, height: 14, x: 2, y: 3, rx: 2 }],
    ["path", { d: "M12 17v4" }],
    ["path", { d: "M8 21h8" }],
  ],
  record: [["circle", { cx: 12, cy: 12, r: 10 }]],
  stop: [["rect", { width: 18, height: 18, x: 3, y: 3, rx: 2 }]],
  leave: [
    ["path", { d: "M10.1 13.9a14 14 0 0 0 3.732 2.668 1 1 0 0 0 1.213-.303l.355-.465A2 2 0 0 1 17 15h3a2 2 0 0 1 2 2v3a2 2 0 0 1-2 2 18 18 0 0 1-12.728-5.272" }],
    ["path", { d: "M22 2 2 22" }],
    ["path", { d: "M4.76 13.582A18 18 0 0 1 2 4a2 2 0 0 1 2-2h3a2 2 0 0 1 2 2v3a2 2 0 0 1-.8 1.6l-.468.351a1 1 0 0 0-.292 1.233 14 14 0 0 0 .244.473" }],
  ],
};

function Icon({ name, size = 20, fill = "none" }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill={fill} stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      {ICONS[name].map(([tag, attrs], i) => React.createElement(tag, { key: i, ...attrs }))}
    </svg>
  );
}

function Tile({ name, stream, videoOn, audioOn, isLocal, screen, speaking, mirrored }) {
  const cls = ["yoom-lm-tile", screen ? "yoom-lm-screen" : "", speaking ? "yoom-lm-speaking" : ""].filter(Boolean).join(" ");
  return (
    <div className={cls} data-testid="participant-tile" data-participant-name={name} data-local={isLocal ? "true" : "false"}>
      <StreamVideo
        stream={stream}
        muted={isLocal}
        mirrored={mirrored}
        testId={isLocal ? "local-video" : "remote-video"}
        firstFrameMark={isLocal ? null : "__yoomFirstRemoteFrameAt"}
      />
      {!videoOn && (
        <div className="yoom-lm-avatar">
          <span>{initialsOf(name)}</span>
        </div>
      )}
      <div className="yoom-lm-label">
        {!audioOn && (
          <span className="yoom-lm-muted" data-testid="muted-indicator" aria-label={`${name} is muted`} title="Muted">
            <Icon name="micOff" size={14} />
          </span>
        )}
        <b>{isLocal ? `${name} (You)` : name}</b>
      </div>
    </div>
  );
}

function tilesOf(snap) {
  const myName = (snap.me && snap.me.user && snap.me.user.name) || "You";
  const tiles = [
    {
      key: "me",
      peerId: snap.me ? snap.me.peerId : "me",
      name: myName,
      stream: snap.localStream,
      videoOn: snap.camOn || snap.screenOn,
      audioOn: snap.micOn,
      isLocal: true,
      screen: snap.screenOn,
      speaking: false,
      mirrored: !snap.screenOn,
    },
  ];
  for (const p of snap.peers) {
    tiles.push({
      key: p.peerId,
      peerId: p.peerId,
      name: (p.user && p.user.name) || "Guest",
      stream: p.stream,
      videoOn: p.video || p.screen,
      audioOn: p.audio,
      isLocal: false,
      screen: p.screen,
      speaking: p.speaking,
      mirrored: false,
    });
  }
  return tiles;
}

const STATUS_TEXT = {
  idle: "Getting ready…",
  connecting: "Joining…",
  reconnecting: "Reconnecting…",
};

export function LocalParticipantsView({ layout = "speaker-left" }) {
  const ctx = useLocalCall();
  if (!ctx || !ctx.snap) return null;
  const { snap } = ctx;
  const tiles = tilesOf(snap);
  const status = snap.recordingBusy ? "Saving the recording…" : STATUS_TEXT[snap.status];
  const recordingBy = snap.recordingBy;
  const overlay = (
    <>
      {status && (
        <div className="yoom-lm-status" role="status">
          {status}
        </div>
      )}
      {recordingBy && (
        <div className="yoom-lm-rec" data-testid="recording-indicator" role="status">
          <Icon name="record" size={10} fill="currentColor" /> REC
        </div>
      )}
    </>
  );
  let body;
  if (layout === "grid" || tiles.length === 1) {
    const cols = Math.ceil(Math.sqrt(tiles.length));
    const rows = Math.ceil(tiles.length / cols);
    body = (
      <div className="yoom-lm-grid" style={{ "--cols": cols, "--rows": rows }} data-layout="grid">
        {tiles.map(({ key, ...t }) => (
          <Tile key={key} {...t} />
        ))}
      </div>
    );
  } else {
    // The speaker: whoever shares a screen, else who spoke last, else the first other person.
    const remote = tiles.filter((t) => !t.isLocal);
    const main =
      remote.find((t) => t.screen) || remote.find((t) => t.peerId === snap.activeSpeaker) || remote[0] || tiles[0];
    const { key: mainKey, ...mainProps } = main;
    const rest = tiles.filter((t) => t !== main);
    body = (
      <div className={`yoom-lm-speakerlayout ${layout === "speaker-right" ? "yoom-lm-right" : ""}`} data-layout={layout}>
        <div className="yoom-lm-main">
          <Tile key={mainKey} {...mainProps} />
        </div>
        <div className="yoom-lm-bar">
          {rest.map(({ key, ...t }) => (
            <Tile key={key} {...t} />
          ))}
        </div>
      </div>
    );
  }
  return (
    <div className="yoom-lm" style={{ position: "relative", width: "100%", height: "100%" }} data-call-status={snap.status}>
      {overlay}
      {body}
    </div>
  );
}

export function LocalVideoPreview() {
  const ctx = useLocalCall();
  if (!ctx || !ctx.snap) return null;
  const { snap } = ctx;
  return (
    <div className="yoom-lm">
      <div className="yoom-lm-preview" data-testid="video-preview">
        <StreamVideo stream={snap.localStream} muted mirrored testId="local-preview" />
        {!snap.camOn && (
          <div className="yoom-lm-avatar">
            <span style={{ width: "auto", height: "auto", padding: "10px 16px", borderRadius: 12, fontSize: 15, fontWeight: 500, background: "#19232d" }}>
              Camera is off
            </span>
          </div>
        )}
        <div className="yoom-lm-label">
          {!snap.micOn && (
            <span className="yoom-lm-muted" aria-label="Microphone is off">
              <Icon name="micOff" size={14} />
            </span>
          )}
          <b>Preview</b>
        </div>
      </div>
      {snap.deviceError && (
        <div className="yoom-lm-note" role="alert">
          {snap.deviceError}
        </div>
      )}
    </div>
  );
}

export function LocalDeviceSettings() {
  const ctx = useLocalCall();
  if (!ctx || !ctx.snap) return null;
  const { snap, engine } = ctx;
  const select = (kind, label, list) => (
    <label>
      {label}
      <select
        aria-label={label}
        value={snap.selected[kind] || ""}
        disabled={!list.length}
        onChange={(e) => engine.selectDevice(kind, e.target.value)}
      >
        {!list.length && <option value="">None found</option>}
        {list.map((d) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div className="yoom-lm yoom-lm-devices" data-testid="device-settings">
      {select("videoinput", "Camera", snap.devices.videoinput)}
      {select("audioinput", "Microphone", snap.devices.audioinput)}
    </div>
  );
}

export function LocalCallControls({ canRecord = false }) {
  const ctx = useLocalCall();
  if (!ctx || !ctx.snap) return null;
  const { snap, engine } = ctx;
  const inCall = snap.status === "joined";
  const btn = (label, icon, onClick, extra = "", pressed, disabled = false, testId) => (
    <button
      type="button"
      className={`yoom-lm-btn ${extra}`}
      aria-label={label}
      title={label}
      aria-pressed={pressed}
      onClick={onClick}
      disabled={disabled}
      data-testid={testId}
    >
      {icon === "record" ? (
        <span className="yoom-lm-recdot">
          <Icon name="record" size={18} fill="currentColor" />
        </span>
      ) : (
        <Icon name={icon} fill={icon === "stop" ? "currentColor" : "none"} />
      )}
    </button>
  );
  return (
    <div className="yoom-lm yoom-lm-controls" role="toolbar" aria-label="Call controls">
      {btn("Toggle microphone", snap.wantMic ? "mic" : "micOff", () => engine.setMic(!snap.wantMic), snap.wantMic ? "" : "yoom-lm-off", snap.wantMic, false, "toggle-mic")}
      {btn("Toggle camera", snap.wantCam ? "video" : "videoOff", () => engine.setCamera(!snap.wantCam), snap.wantCam ? "" : "yoom-lm-off", snap.wantCam, false, "toggle-camera")}
      {snap.canShareScreen &&
        btn("Share screen", snap.screenOn ? "screenOff" : "screen", () => engine.setScreenShare(!snap.screenOn), snap.screenOn ? "yoom-lm-active" : "", snap.screenOn, !inCall, "share-screen")}
      {canRecord &&
        (snap.recording
          ? btn("Stop recording", "stop", () => engine.stopRecording(), "yoom-lm-off", true, false, "stop-recording")
          : btn("Start recording", "record", () => engine.startRecording(), "", false, !inCall || snap.recordingBusy, "start-recording"))}
      {btn("Leave call", "leave", () => engine.leave(), "yoom-lm-leave", undefined, false, "leave-call")}
    </div>
  );
}

export function LocalParticipantsList() {
  const ctx = useLocalCall();
  if (!ctx || !ctx.snap) return null;
  const tiles = tilesOf(ctx.snap);
  return (
    <ul className="yoom-lm yoom-lm-list" aria-label="Participants" data-testid="participants-list">
      {tiles.map((t) => (
        <li key={t.key} data-testid="participant-row">
          <span className="yoom-lm-dot" aria-hidden="true">
            {initialsOf(t.name)}
          </span>
          <span className="yoom-lm-name">{t.isLocal ? `${t.name} (You)` : t.name}</span>
          <span className="yoom-lm-icons">
            <span className={t.audioOn ? "" : "yoom-lm-off"} aria-label={t.audioOn ? "Microphone on" : "Muted"} title={t.audioOn ? "Microphone on" : "Muted"}>
              <Icon name={t.audioOn ? "mic" : "micOff"} size={16} />
            </span>
            <span className={t.videoOn ? "" : "yoom-lm-off"} aria-label={t.videoOn ? "Camera on" : "Camera off"} title={t.videoOn ? "Camera on" : "Camera off"}>
              <Icon name={t.videoOn ? "video" : "videoOff"} size={16} />
            </span>
          </span>
        </li>
      ))}
    </ul>
  );
}

export default LocalCall;
