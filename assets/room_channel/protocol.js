// The room channel's pure protocol helpers (docs/rtc-protocol.md): no DOM, nothing from Reflex, so
// tests/js runs them as they are. Used by the client (client.js) on both providers.

// The `exp` claim of a JWT (seconds since the epoch); 0 when it can't be read, which means "fetch another".
export function tokenExpiry(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload + "===".slice((payload.length + 3) % 4)));
    return typeof claims.exp === "number" ? claims.exp : 0;
  } catch (_err) {
    return 0;
  }
}

// The signaling socket's base URL, without a trailing slash: a path on the backend, or a full URL;
// an http(s) scheme becomes ws(s).
export function wsUrl(route, backend) {
  const url = new URL(route || "/api/rtc", backend);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  return url.toString().replace(/\/+$/, "");
}

// The call's signaling socket. The token is not part of it: it goes in the first frame (authFrame),
// because URLs end up in access logs.
export function callSocketUrl(wsBase, callId) {
  return `${wsBase}/${encodeURIComponent(callId)}`;
}

export function authFrame(token) {
  return JSON.stringify({ type: "auth", token });
}

// About two minutes of trying: a deploy restarts the server in seconds, and meanwhile the call's media,
// being peer-to-peer, keeps flowing (the engine keeps its connections while signaling is away).
export const MAX_RECONNECTS = 40;

// Milliseconds before reconnect attempt `attempt` (1, 2, …): 1 s, 2 s, then every 3 s (a server back from
// a restart is found within 3 s); null once MAX_RECONNECTS attempts have failed.
export function reconnectDelay(attempt) {
  if (attempt > MAX_RECONNECTS) return null;
  return Math.min(1000 * attempt, 3000);
}

// The part of Yoom's signaling vocabulary the browser needs (yoom/rtc/protocol.py client_protocol(),
// passed down as the LocalCall `protocol` prop).
export function readProtocol(protocol) {
  const p = protocol || {};
  return {
    callEndedCodes: Array.isArray(p.callEndedCodes) ? p.callEndedCodes.map(Number) : [],
    closeMessages: p.closeMessages && typeof p.closeMessages === "object" ? p.closeMessages : {},
    shutOutCodes: Array.isArray(p.shutOutCodes) ? p.shutOutCodes.map(Number) : [],
    lostConnection: typeof p.lostConnection === "string" ? p.lostConnection : "",
    inCallKey: typeof p.inCallKey === "string" ? p.inCallKey : "",
  };
}

// What a closed signaling socket means, decided by its close code alone: the ended screen, giving up
// with words for people (those of the error frame that came before the close, else the protocol's;
// `shutOut` when Yoom's door closed on the person, not only on this socket), or joining again (a dropped
// network, a restarted server, a heartbeat timeout …).
export function closeOutcome(code, protocol, lastErrorMessage = "") {
  if (protocol.callEndedCodes.includes(code)) return { kind: "ended" };
  const words = protocol.closeMessages[String(code)];
  if (words) return { kind: "failed", message: lastErrorMessage || words, shutOut: protocol.shutOutCodes.includes(code) };
  return { kind: "reconnect" };
}

// Whether a token fetch that failed while joining again is worth another try: the server out of reach, or
// a proxy in front of it saying it is down for now (a deploy).
export function tokenRetryable(err) {
  return !!err && (err.reason === "unreachable" || [502, 503, 504].includes(err.status));
}
