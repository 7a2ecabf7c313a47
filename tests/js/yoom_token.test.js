// The shared token fetch (assets/yoom_token.js) against a stubbed fetch.
import { afterEach, describe, expect, test } from "bun:test";
import { fetchVideoToken, serverMessage, TOKEN_PATH, TokenError, tokenURL } from "../../assets/yoom_token.js";

const realFetch = globalThis.fetch;
const calls = [];

function answer(respond) {
  globalThis.fetch = async (url, init) => {
    calls.push({ url, init });
    return respond();
  };
}

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const GOOD = { token: "a.b.c", api_key: "local", user: { id: "u1", name: "Ada", image: null }, provider: "local" };

afterEach(() => {
  globalThis.fetch = realFetch;
  calls.length = 0;
});

async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("tokenURL", () => {
  test("puts the route on the backend's origin, whatever path the backend URL has", () => {
    expect(tokenURL(new URL("http://localhost:8000/ping"))).toBe("http://localhost:8000/api/video/token");
    expect(tokenURL("https://yoom.example/ping", "/custom/token")).toBe("https://yoom.example/custom/token");
    expect(TOKEN_PATH).toBe("/api/video/token");
  });

  test("takes a full URL as it is and an empty route as the default", () => {
    expect(tokenURL("http://localhost:8000/ping", "https://other.example/t")).toBe("https://other.example/t");
    expect(tokenURL("http://localhost:8000/ping", "")).toBe("http://localhost:8000/api/video/token");
  });
});

describe("fetchVideoToken", () => {
  test("200: POSTs with the session cookie and no body, resolves to the answer", async () => {
    answer(() => json(200, GOOD));
    const info = await fetchVideoToken("http://localhost:8000/api/video/token");
    expect(info).toEqual(GOOD);
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe("http://localhost:8000/api/video/token");
    expect(calls[0].init.method).toBe("POST");
    expect(calls[0].init.credentials).toBe("include");
    expect(calls[0].init.body).toBeUndefined();
    expect(calls[0].init.headers).toBeUndefined(); // a simple request: no CORS preflight
  });

  test("names the meeting in the body (never the URL), still a simple request", async () => {
    answer(() => json(200, GOOD));
    await fetchVideoToken("http://localhost:8000/api/video/token", { callId: "abc-123" });
    expect(calls[0].url).toBe("http://localhost:8000/api/video/token");
    expect(JSON.parse(calls[0].init.body)).toEqual({ call_id: "abc-123" });
    expect(calls[0].init.headers).toBeUndefined(); // a string body is text/plain: no CORS preflight
  });

  test("403 from the lobby: refused, in the server's words", async () => {
    answer(() => json(403, { error: "The host hasn't let you into this meeting yet." }));
    const err = await failure(fetchVideoToken("http://x/api/video/token", { callId: "abc" }));
    expect(err.reason).toBe("refused");
    expect(err.message).toBe("The host hasn't let you into this meeting yet.");
  });

  test("401: signed out, in the server's words", async () => {
    answer(() => json(401, { error: "Sign in to join a meeting." }));
    const err = await failure(fetchVideoToken("/t"));
    expect(err).toBeInstanceOf(TokenError);
    expect(err.reason).toBe("signed-out");
    expect(err.message).toBe("Sign in to join a meeting.");
  });

  test("401 without words still says what to do", async () => {
    answer(() => new Response("", { status: 401 }));
    const err = await failure(fetchVideoToken("/t"));
    expect(err.reason).toBe("signed-out");
    expect(err.message).toMatch(/sign in/i);
  });

  test("5xx: the server's message, else the status", async () => {
    answer(() => json(503, { error: "Video isn't set up correctly on this server." }));
    let err = await failure(fetchVideoToken("/t"));
    expect(err.reason).toBe("refused");
    expect(err.message).toBe("Video isn't set up correctly on this server.");
    answer(() => new Response("<html>Bad gateway</html>", { status: 502 }));
    err = await failure(fetchVideoToken("/t"));
    expect(err.reason).toBe("refused");
    expect(err.message).toBe("Couldn't get a video token (HTTP 502).");
    expect(err.status).toBe(502);
  });

  test("network error: unreachable, which callers may retry", async () => {
    answer(() => {
      throw new TypeError("Failed to fetch");
    });
    const err = await failure(fetchVideoToken("/t"));
    expect(err.reason).toBe("unreachable");
    expect(err.message).toMatch(/reach Yoom's server/);
  });

  test("an abort is passed through untouched", async () => {
    answer(() => {
      throw new DOMException("aborted", "AbortError");
    });
    const err = await failure(fetchVideoToken("/t", { signal: new AbortController().signal }));
    expect(err.name).toBe("AbortError");
    expect(err).not.toBeInstanceOf(TokenError);
  });

  test.each([
    ["not JSON", () => new Response("ok", { status: 200 })],
    ["no token", () => json(200, { ...GOOD, token: undefined })],
    ["a token that is not a string", () => json(200, { ...GOOD, token: 42 })],
    ["no api key", () => json(200, { ...GOOD, api_key: undefined })],
    ["no user id", () => json(200, { ...GOOD, user: { name: "Ada" } })],
    ["a JSON array", () => json(200, [GOOD])],
  ])("malformed 200 answer (%s)", async (_what, respond) => {
    answer(respond);
    const err = await failure(fetchVideoToken("/t"));
    expect(err.reason).toBe("malformed");
    expect(err.message).toBe("The video token answer was malformed.");
  });
});

test("serverMessage reads every shape Yoom's routes answer with", () => {
  expect(serverMessage({ error: " Not the host. " })).toBe("Not the host.");
  expect(serverMessage({ message: "m" })).toBe("m");
  expect(serverMessage({ error: { message: "nested" } })).toBe("nested");
  expect(serverMessage({ detail: "d" })).toBe("d");
  expect(serverMessage({ error: "" })).toBe("");
  expect(serverMessage(null)).toBe("");
  expect(serverMessage("text")).toBe("");
});
