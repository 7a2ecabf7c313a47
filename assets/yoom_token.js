// The signed-in person's video token, from Yoom's token route: `POST /api/video/token`
// (yoom/api/video_token.py). Shared by the built-in meeting (local_meeting/) and the Stream bridge
// (stream_bridge.jsx). It imports nothing from Reflex: callers pass the backend's URL (Reflex's
// getBackendURL), so `bun test` runs this module as it is.

export const TOKEN_PATH = "/api/video/token";

// `reason` tells callers what to do: "unreachable" may pass (retry), the others will not.
export class TokenError extends Error {
  constructor(message, reason, status = 0) {
    super(message);
    this.name = "TokenError";
    this.reason = reason; // "unreachable" | "signed-out" | "refused" | "malformed"
    this.status = status; // the HTTP status of a refusal, 0 otherwise
  }
}

// The route on the backend (another port in development, the page's own in production); a full URL
// is taken as it is.
export function tokenURL(backend, route = TOKEN_PATH) {
  return new URL(route || TOKEN_PATH, backend).toString();
}

// The words a Yoom route put in its error answer: `{error}`, `{message}`, `{detail}` or `{error:{message}}`.
export function serverMessage(body) {
  if (!body || typeof body !== "object") return "";
  const candidates = [body.message, body.error && body.error.message, body.error, body.detail];
  for (const c of candidates) {
    if (typeof c === "string" && c.trim()) return c.trim();
  }
  return "";
}

// Resolves to `{token, api_key, user: {id, name, image}, provider, expires_at, …}`; rejects with a
// TokenError written for people (or the AbortError of `signal`). `callId` names the meeting the token is
// for (in the body, never the URL): the server refuses it (403, with words) until the person may be in it
// (the lobby, who may join), and a guest's token is scoped to it.
export async function fetchVideoToken(url, { signal, callId } = {}) {
  let response;
  try {
    // A text body and no custom header: a "simple" request, so no CORS preflight in development. The
    // user is whoever the session (or guest) cookie says; nothing in the request can choose it.
    const options = { method: "POST", credentials: "include", signal };
    if (callId) options.body = JSON.stringify({ call_id: String(callId) });
    response = await fetch(url, options);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new TokenError("Can't reach Yoom's server for a video token. Check your connection and try again.", "unreachable");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (_err) {
    body = null;
  }
  if (response.status === 401) {
    throw new TokenError(serverMessage(body) || "You're signed out. Sign in again to join the meeting.", "signed-out");
  }
  if (!response.ok) {
    const words = serverMessage(body) || `Couldn't get a video token (HTTP ${response.status}).`;
    throw new TokenError(words, "refused", response.status);
  }
  const valid =
    body &&
    typeof body.token === "string" &&
    body.token &&
    typeof body.api_key === "string" &&
    body.user &&
    typeof body.user === "object" &&
    body.user.id;
  if (!valid) throw new TokenError("The video token answer was malformed.", "malformed");
  return body;
}
