// The signaling client (assets/local_meeting/signaling.js) against a fake WebSocket and a stubbed
// token route: what each way a socket can end leads to.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { readProtocol } from "../../assets/local_meeting/helpers.js";
import { SignalingClient } from "../../assets/room_channel/client.js";
import { MAX_RECONNECTS } from "../../assets/room_channel/protocol.js";

const PROTOCOL = readProtocol({
  callEndedCodes: [4000, 4410],
  closeMessages: { 4401: "Pass expired.", 4403: "Invite-only.", 4404: "No such meeting.", 4410: "Ended.", 4429: "Full." },
  lostConnection: "Lost the connection.",
});

class FakeSocket {
  static OPEN = 1;
  static made = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeSocket.made.push(this);
  }

  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen();
  }

  receive(frame) {
    this.onmessage({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }

  send(data) {
    this.sent.push(JSON.parse(data));
  }

  close(code = 1005) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = code;
    queueMicrotask(() => this.onclose({ code }));
  }

  // The server (or the network) ends the socket.
  drop(code) {
    this.readyState = 3;
    this.onclose({ code });
  }
}

const real = {
  WebSocket: globalThis.WebSocket,
  fetch: globalThis.fetch,
  setTimeout: globalThis.setTimeout,
  warn: console.warn,
};
const exp = Math.floor(Date.now() / 1000) + 3600;
const TOKEN = `h.${Buffer.from(JSON.stringify({ user_id: "u1", exp })).toString("base64url")}.s`;
let tokenAnswers;
let tokenRequests;
let client;
let events;

function makeClient() {
  events = [];
  client = new SignalingClient({
    callId: "call-1",
    tokenUrl: "http://yoom.test/api/video/token",
    wsBase: "ws://yoom.test/api/rtc",
    protocol: PROTOCOL,
    handlers: {
      onFrame: (msg) => events.push(["frame", msg.type]),
      onReconnecting: () => events.push(["reconnecting"]),
      onEnded: () => events.push(["ended"]),
      onFailed: (message) => events.push(["failed", message]),
    },
  });
  return client;
}

const tick = () => new Promise((resolve) => real.setTimeout(resolve, 0));

// Reconnect timers fire at once; returns the delays they asked for.
function instantTimers() {
  const delays = [];
  globalThis.setTimeout = (fn, ms) => {
    delays.push(ms);
    return real.setTimeout(fn, 0);
  };
  return delays;
}

async function socket(n = 1) {
  for (let i = 0; i < 100 && FakeSocket.made.length < n; i++) await tick();
  expect(FakeSocket.made).toHaveLength(n);
  return FakeSocket.made[n - 1];
}

beforeEach(() => {
  console.warn = () => {}; // the client logs non-fatal error frames
  FakeSocket.made = [];
  tokenRequests = 0;
  tokenAnswers = () => Response.json({ token: TOKEN, api_key: "local", user: { id: "u1" } });
  globalThis.WebSocket = FakeSocket;
  globalThis.fetch = async () => {
    tokenRequests += 1;
    return tokenAnswers();
  };
});

afterEach(() => {
  if (client) client.stop();
  client = null;
  globalThis.WebSocket = real.WebSocket;
  globalThis.fetch = real.fetch;
  globalThis.setTimeout = real.setTimeout;
  console.warn = real.warn;
});

test("the token is fetched before joining, and goes in the socket's first frame, never its URL", async () => {
  makeClient();
  await tick();
  expect(tokenRequests).toBe(1);
  expect(FakeSocket.made).toHaveLength(0);
  client.start();
  const ws = await socket();
  expect(ws.url).toBe("ws://yoom.test/api/rtc/call-1");
  ws.open();
  expect(ws.sent).toEqual([{ type: "auth", token: TOKEN }]);
  expect(tokenRequests).toBe(1); // the prefetched one, still valid
});

test("frames reach the engine; pongs, error frames and garbage don't", async () => {
  makeClient().start();
  const ws = await socket();
  ws.open();
  ws.receive({ type: "welcome", peer_id: "p1", peers: [] });
  ws.receive({ type: "pong" });
  ws.receive({ type: "error", code: "bad-message", message: "That message wasn't understood." });
  ws.receive("{not json");
  ws.receive({ no: "type" });
  ws.receive({ type: "peer-joined", peer: { peer_id: "p2" } });
  expect(events).toEqual([
    ["frame", "welcome"],
    ["frame", "peer-joined"],
  ]);
  client.send({ type: "media", audio: true });
  expect(ws.sent.slice(1)).toEqual([{ type: "media", audio: true }]);
});

test("a close that ends the call leads to the ended screen, even after an error frame", async () => {
  makeClient().start();
  const ws = await socket();
  ws.open();
  ws.receive({ type: "error", code: "ended", message: "This meeting has ended." });
  expect(events).toEqual([]); // the error frame alone decides nothing
  ws.drop(4410);
  expect(events).toEqual([["ended"]]);
  expect(FakeSocket.made).toHaveLength(1);
});

test("a refusal fails with the error frame's words", async () => {
  makeClient().start();
  const ws = await socket();
  ws.open();
  ws.receive({ type: "error", code: "full", message: "This meeting is full (2 people)." });
  ws.drop(4429);
  expect(events).toEqual([["failed", "This meeting is full (2 people)."]]);
});

test("a refusal without an error frame fails with the protocol's words", async () => {
  makeClient().start();
  (await socket()).drop(4403);
  expect(events).toEqual([["failed", "Invite-only."]]);
});

test("an error frame's words don't outlive their socket", async () => {
  instantTimers();
  makeClient().start();
  const first = await socket();
  first.open();
  first.receive({ type: "error", code: "timeout", message: "Lost contact with your browser." });
  first.drop(4408); // a heartbeat timeout: join again
  expect(events).toEqual([["reconnecting"]]);
  const second = await socket(2);
  second.drop(4404);
  expect(events).toEqual([["reconnecting"], ["failed", "No such meeting."]]);
});

test("a dropped socket joins again with a fresh token; a welcome resets the count", async () => {
  const delays = instantTimers();
  makeClient().start();
  const first = await socket();
  first.open();
  first.drop(1006);
  expect(events).toEqual([["reconnecting"]]);
  const second = await socket(2);
  expect(delays).toEqual([1000]);
  expect(tokenRequests).toBe(2);
  second.open();
  second.receive({ type: "welcome", peer_id: "p1", peers: [] });
  expect(client.reconnects).toBe(0);
});

test("reconnects back off 1 s, 2 s, then 3 s for about two minutes, then give up with the lost-connection words", async () => {
  const delays = instantTimers();
  makeClient().start();
  for (let n = 1; n <= MAX_RECONNECTS + 1; n++) (await socket(n)).drop(1011);
  expect(delays.slice(0, 5)).toEqual([1000, 2000, 3000, 3000, 3000]);
  expect(delays).toHaveLength(MAX_RECONNECTS);
  expect(delays.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(100_000);
  expect(events.at(-1)).toEqual(["failed", "Lost the connection."]);
  expect(events.filter(([e]) => e === "reconnecting")).toHaveLength(MAX_RECONNECTS + 1);
});

test("a proxy's 502/503/504 while the server restarts tries again; other refusals while reconnecting fail", async () => {
  makeClient().start();
  const ws = await socket();
  const delays = instantTimers();
  tokenAnswers = () => new Response("<html>Bad gateway</html>", { status: 502 });
  ws.drop(1012);
  for (let i = 0; i < 50 && delays.length < 2; i++) await tick();
  expect(delays.slice(0, 2)).toEqual([1000, 2000]);
  expect(events.some(([e]) => e === "failed")).toBe(false);
  tokenAnswers = () => Response.json({ error: "You were removed." }, { status: 403 });
  for (let i = 0; i < 50 && !events.some(([e]) => e === "failed"); i++) await tick();
  expect(events.at(-1)).toEqual(["failed", "You were removed."]);
});

test("no token on the way in fails with its words; unreachable while reconnecting tries again", async () => {
  tokenAnswers = () => Response.json({ error: "Sign in to join a meeting." }, { status: 401 });
  makeClient().start();
  for (let i = 0; i < 20 && !events.length; i++) await tick();
  expect(events).toEqual([["failed", "Sign in to join a meeting."]]);

  tokenAnswers = () => Response.json({ token: TOKEN, api_key: "local", user: { id: "u1" } });
  makeClient().start();
  const ws = await socket();
  globalThis.fetch = async () => {
    throw new TypeError("Failed to fetch");
  };
  const delays = instantTimers();
  ws.drop(1006);
  for (let i = 0; i < 50 && delays.length < 2; i++) await tick();
  expect(delays.slice(0, 2)).toEqual([1000, 2000]);
  expect(events.some(([e]) => e === "failed")).toBe(false);
});

test("leaving says so, closes normally and reports nothing more", async () => {
  makeClient().start();
  const ws = await socket();
  ws.open();
  client.stop();
  expect(ws.sent.slice(1)).toEqual([{ type: "leave" }]);
  expect(ws.closedWith).toBe(1000);
  await tick();
  expect(events).toEqual([]);
});

test("the heartbeat pings, and closes a socket the server stopped answering", async () => {
  makeClient().start();
  const ws = await socket();
  ws.open();
  expect(client.pingTicker).not.toBeNull();
  client.ping(ws);
  expect(ws.sent.slice(1)).toEqual([{ type: "ping" }]);
  client.lastPong = Date.now() - 11000;
  client.ping(ws);
  expect(ws.closedWith).toBe(1005);
  await tick();
  expect(events).toEqual([["reconnecting"]]);
  expect(client.pingTicker).toBeNull();
});
