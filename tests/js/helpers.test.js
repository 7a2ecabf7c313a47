// The meeting engine's pure helpers (assets/local_meeting/helpers.js).
import { describe, expect, test } from "bun:test";
import {
  authFrame,
  callSocketUrl,
  closeOutcome,
  initialsOf,
  MAX_RECONNECTS,
  mediaErrorMessage,
  readProtocol,
  reconnectDelay,
  senderLimits,
  tokenExpiry,
  wsUrl,
} from "../../assets/local_meeting/helpers.js";

// Shaped like yoom.rtc.protocol.client_protocol() after its trip through JSON (keys are strings).
const PROTOCOL = readProtocol({
  callEndedCodes: [4000, 4410],
  closeMessages: {
    4401: "Pass expired.",
    4403: "Invite-only.",
    4404: "No such meeting.",
    4410: "Ended.",
    4429: "Full.",
    4430: "Removed.",
  },
  shutOutCodes: [4403, 4430],
  lostConnection: "Lost the connection.",
});

function jwt(claims) {
  const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString("base64url");
  return `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(claims)}.signature`;
}

describe("tokenExpiry", () => {
  test("reads exp from a JWT's claims (base64url, any padding)", () => {
    expect(tokenExpiry(jwt({ user_id: "u", exp: 1700000000 }))).toBe(1700000000);
    // Claims whose base64url needs '-', '_' and padding to decode.
    expect(tokenExpiry(jwt({ user_id: "ü?>>", name: "~~~", exp: 42 }))).toBe(42);
  });

  test("0 for anything it can't read, so the caller fetches a new token", () => {
    expect(tokenExpiry(jwt({ user_id: "u" }))).toBe(0);
    expect(tokenExpiry(jwt({ exp: "soon" }))).toBe(0);
    expect(tokenExpiry("not-a-jwt")).toBe(0);
    expect(tokenExpiry("a.!!!.c")).toBe(0);
    expect(tokenExpiry(undefined)).toBe(0);
  });
});

describe("wsUrl", () => {
  test("a path goes on the backend, http → ws and https → wss", () => {
    expect(wsUrl("/api/rtc", new URL("http://localhost:8000/ping"))).toBe("ws://localhost:8000/api/rtc");
    expect(wsUrl("/api/rtc/", "https://yoom.example/ping")).toBe("wss://yoom.example/api/rtc");
    expect(wsUrl("api/rtc", "http://127.0.0.1:3000/")).toBe("ws://127.0.0.1:3000/api/rtc");
    expect(wsUrl("", "http://127.0.0.1:3000/")).toBe("ws://127.0.0.1:3000/api/rtc");
  });

  test("full URLs are kept (an http one becomes ws), without trailing slashes", () => {
    expect(wsUrl("wss://rtc.example/api/rtc//", "http://localhost:8000")).toBe("wss://rtc.example/api/rtc");
    expect(wsUrl("HTTPS://rtc.example/x/", "http://localhost:8000")).toBe("wss://rtc.example/x");
  });

  test("the call's socket URL escapes the call id and the token", () => {
    // No token in the URL (access logs keep URLs): it travels in the first frame.
    expect(callSocketUrl("ws://h/api/rtc", "a b/c")).toBe("ws://h/api/rtc/a%20b%2Fc");
    expect(JSON.parse(authFrame("x.y+z"))).toEqual({ type: "auth", token: "x.y+z" });
  });
});

describe("reconnectDelay", () => {
  test("one second more per attempt, never more than three", () => {
    expect([1, 2, 3, 4, 5].map(reconnectDelay)).toEqual([1000, 2000, 3000, 3000, 3000]);
  });

  test("gives up after MAX_RECONNECTS attempts", () => {
    expect(MAX_RECONNECTS).toBe(40);
    expect(reconnectDelay(MAX_RECONNECTS + 1)).toBeNull();
  });
});

describe("closeOutcome: decided by the close code", () => {
  test("the codes that end the call lead to the ended screen, whatever error came before", () => {
    expect(closeOutcome(4000, PROTOCOL)).toEqual({ kind: "ended" });
    expect(closeOutcome(4410, PROTOCOL, "This meeting has ended.")).toEqual({ kind: "ended" });
  });

  test("a refusal gives up with the last error frame's words, else the protocol's", () => {
    expect(closeOutcome(4429, PROTOCOL, "This meeting is full (2 people).")).toEqual({
      kind: "failed",
      message: "This meeting is full (2 people).",
      shutOut: false,
    });
    expect(closeOutcome(4401, PROTOCOL, "")).toEqual({ kind: "failed", message: "Pass expired.", shutOut: false });
  });

  test("a refusal from Yoom's door (removed, not invited) says the person is shut out of the meeting", () => {
    expect(closeOutcome(4430, PROTOCOL, "The host removed you.")).toEqual({
      kind: "failed",
      message: "The host removed you.",
      shutOut: true,
    });
    expect(closeOutcome(4403, PROTOCOL)).toEqual({ kind: "failed", message: "Invite-only.", shutOut: true });
  });

  test("anything else joins again: a dropped network, a server error or restart, a heartbeat timeout", () => {
    for (const code of [1000, 1001, 1005, 1006, 1008, 1011, 1012, 4408]) {
      expect(closeOutcome(code, PROTOCOL, "Lost contact with your browser.")).toEqual({ kind: "reconnect" });
    }
  });

  test("without a protocol nothing is fatal", () => {
    const none = readProtocol(undefined);
    expect(none).toEqual({ callEndedCodes: [], closeMessages: {}, shutOutCodes: [], lostConnection: "", inCallKey: "" });
    expect(closeOutcome(4410, none)).toEqual({ kind: "reconnect" });
  });
});

describe("mediaErrorMessage", () => {
  test.each([
    ["NotAllowedError", "Access to your camera was blocked. Allow it in your browser's site settings."],
    ["SecurityError", "Access to your camera was blocked. Allow it in your browser's site settings."],
    ["NotFoundError", "No camera was found."],
    ["OverconstrainedError", "No camera was found."],
    ["NotReadableError", "Your camera is in use by another app or can't be started."],
    ["AbortError", "Your camera is in use by another app or can't be started."],
    ["TypeError", "Your camera couldn't be started."],
  ])("%s", (name, words) => {
    expect(mediaErrorMessage({ name }, "camera")).toBe(words);
  });

  test("names the device and copes with no error at all", () => {
    expect(mediaErrorMessage(new DOMException("x", "NotFoundError"), "microphone")).toBe("No microphone was found.");
    expect(mediaErrorMessage(null, "microphone")).toBe("Your microphone couldn't be started.");
  });
});

describe("initialsOf", () => {
  test.each([
    ["Ada Lovelace", "AL"],
    ["  grace   brewster murray hopper ", "GH"],
    ["Plato", "P"],
    ["élodie durand", "ÉD"],
    ["", "?"],
    ["   ", "?"],
    [null, "?"],
    [undefined, "?"],
  ])("%p → %p", (name, initials) => {
    expect(initialsOf(name)).toBe(initials);
  });
});

describe("senderLimits", () => {
  test("the more people, the lighter each encode", () => {
    expect(senderLimits(0)).toEqual({ maxBitrate: 1200000, maxFramerate: 30 });
    expect(senderLimits(1)).toEqual({ maxBitrate: 1200000, maxFramerate: 30 });
    expect(senderLimits(2)).toEqual({ maxBitrate: 600000, maxFramerate: 20 });
    expect(senderLimits(3)).toEqual({ maxBitrate: 350000, maxFramerate: 15 });
    expect(senderLimits(5)).toEqual(senderLimits(3));
  });
});
