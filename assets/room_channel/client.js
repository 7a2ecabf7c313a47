// The room channel's client: Yoom's WebSocket `/api/rtc/{call_id}` (docs/rtc-protocol.md), one for both
// providers — the mesh engine (local_meeting/engine.js) signals WebRTC over it, and on both providers it
// carries chat, hands, reactions and app messages (room.js); on Stream (stream_bridge.jsx) that is all.
//
// It owns the token (fetched early, renewed before it expires; the route's `room_token`, which on the
// embedded provider is the video token itself), the socket, the heartbeat (a ping every 3 s from the
// Ticker's worker clock), and reconnecting with backoff. Frames go to `handlers.onFrame`; how the socket
// ends is decided by its close code (closeOutcome): the call ended (`onEnded`), a refusal for good
// (`onFailed(message, {shutOut})`), or a dropped connection, joined again up to MAX_RECONNECTS times
// (`onReconnecting`, then `onFailed` when they are used up).
import { fetchVideoToken } from "../yoom_token.js";
import { authFrame, callSocketUrl, closeOutcome, reconnectDelay, tokenExpiry, tokenRetryable } from "./protocol.js";
import { Ticker } from "./ticker.js";

const noMark = () => {};

// The token that opens the room channel: `room_token` (Stream: signed by Yoom, not Stream), else the
// embedded provider's video token, which is one.
export function roomToken(info) {
  return (info && (info.room_token || info.token)) || "";
}

const PING_MS = 3000;
const PONG_TIMEOUT_MS = 10000;
const TOKEN_MIN_LIFETIME_S = 60;

export class RoomChannelClient {
  // handlers: { onFrame(msg), onReconnecting(), onEnded(), onFailed(message, {shutOut}) }; mark(name): milestones
  // for the mesh's timeline (local_meeting/timeline.js), optional.
  constructor({ callId, tokenUrl, wsBase, protocol, handlers, mark = noMark }) {
    this.mark = mark;
    this.callId = callId;
    this.tokenUrl = tokenUrl;
    this.wsBase = wsBase;
    this.protocol = protocol;
    this.handlers = handlers;
    this.ws = null;
    this.pingTicker = null;
    this.lastPong = 0;
    this.lastError = ""; // the words of this socket's last error frame, shown if its close is fatal
    this.reconnects = 0;
    this.reconnectTimer = null;
    this.started = false;
    this.stopped = false;
    this.token = null; // the token route's answer: {token, ice_servers, recording_max_bytes, …}
    this.tokenPromise = null;
    this.prefetchToken();
  }

  // Fetched during setup, so "Join meeting" only has to open the socket.
  prefetchToken() {
    this.tokenPromise = fetchVideoToken(this.tokenUrl, { callId: this.callId }).then(
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

  async getToken(fresh) {
    const lasts = (info) => tokenExpiry(roomToken(info)) - Date.now() / 1000 > TOKEN_MIN_LIFETIME_S;
    if (!fresh && this.token && lasts(this.token)) return this.token;
    if (!fresh && this.tokenPromise) {
      try {
        const info = await this.tokenPromise;
        if (lasts(info)) return info;
      } catch (_err) {
        // fetch again below
      }
    }
    this.token = await fetchVideoToken(this.tokenUrl, { callId: this.callId });
    return this.token;
  }

  start() {
    if (this.started || this.stopped) return;
    this.started = true;
    this.connect(false);
  }

  async connect(fresh) {
    if (this.stopped) return;
    let info;
    try {
      info = await this.getToken(fresh);
    } catch (err) {
      if (this.reconnects > 0 && tokenRetryable(err)) return this.scheduleReconnect();
      return this.fail(err.message);
    }
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(callSocketUrl(this.wsBase, this.callId));
    } catch (_err) {
      return this.fail(this.protocol.lostConnection);
    }
    this.ws = ws;
    this.lastError = "";
    this.mark("ws-open-start");
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.mark("ws-open");
      ws.send(authFrame(roomToken(info)));
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

  onFrame(msg) {
    if (msg.type === "pong") {
      this.lastPong = Date.now();
      return;
    }
    if (msg.type === "welcome") {
      this.lastPong = Date.now();
      this.reconnects = 0;
    } else if (msg.type === "error") {
      // Only words: whether the call is over is for the close code to say.
      if (typeof msg.message === "string" && msg.message) this.lastError = msg.message;
      console.warn("[yoom] signaling:", msg.code, msg.message);
      return;
    }
    this.handlers.onFrame(msg);
  }

  onClose(ws, e) {
    if (this.ws !== ws) return;
    this.stopPing();
    this.ws = null;
    if (this.stopped) return;
    const outcome = closeOutcome(e.code, this.protocol, this.lastError);
    if (outcome.kind === "ended") {
      this.stop();
      this.handlers.onEnded();
    } else if (outcome.kind === "failed") {
      this.fail(outcome.message, { shutOut: outcome.shutOut });
    } else {
      this.scheduleReconnect();
    }
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.handlers.onReconnecting();
    this.reconnects += 1;
    const delay = reconnectDelay(this.reconnects);
    if (delay === null) return this.fail(this.protocol.lostConnection);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(true), delay);
  }

  fail(message, detail = { shutOut: false }) {
    if (this.stopped) return;
    this.stop();
    this.handlers.onFailed(message || this.protocol.lostConnection, detail);
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

  // Whether it went (false while the socket is down: the room's messages are not queued).
  send(frame) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  // Leave for good: say so, close, and report nothing more.
  stop() {
    this.stopped = true;
    this.stopPing();
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
  }
}

// The name the mesh engine and the tests knew it by.
export { RoomChannelClient as SignalingClient };
