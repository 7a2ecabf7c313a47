// The meeting engine's pure parts: no DOM, no WebRTC, nothing from Reflex, so tests/js runs them as they are.

// The room channel's protocol helpers moved to ../room_channel/protocol.js (the Stream page uses them too);
// re-exported here for the engine's modules.
export {
  authFrame,
  callSocketUrl,
  closeOutcome,
  MAX_RECONNECTS,
  readProtocol,
  reconnectDelay,
  tokenExpiry,
  wsUrl,
} from "../room_channel/protocol.js";

export function mediaErrorMessage(err, what) {
  const name = (err && err.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError")
    return `Access to your ${what} was blocked. Allow it in your browser's site settings.`;
  if (name === "NotFoundError" || name === "OverconstrainedError") return `No ${what} was found.`;
  if (name === "NotReadableError" || name === "AbortError")
    return `Your ${what} is in use by another app or can't be started.`;
  return `Your ${what} couldn't be started.`;
}

export function initialsOf(name) {
  const parts = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  return ((parts[0][0] || "") + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

// Every other person gets their own encode of my camera (a mesh), so the more people, the lighter
// each encode: this bounds both upload bandwidth and CPU per participant.
export function senderLimits(others) {
  if (others >= 3) return { maxBitrate: 350000, maxFramerate: 15 };
  if (others === 2) return { maxBitrate: 600000, maxFramerate: 20 };
  return { maxBitrate: 1200000, maxFramerate: 30 };
}

// A new RTCPeerConnection's ICE settings. The token route's list wins over the welcome's: it carries this
// browser's own short-lived TURN credentials (YOOM_TURN_SECRET), renewed with the token. "relay"
// (YOOM_ICE_TRANSPORT_POLICY) sends media only through TURN; anything else is the browser's default.
export function iceConfig(token, welcomeServers) {
  const fromToken = token && Array.isArray(token.ice_servers) ? token.ice_servers : [];
  const fromWelcome = Array.isArray(welcomeServers) ? welcomeServers : [];
  return {
    iceServers: fromToken.length ? fromToken : fromWelcome,
    iceTransportPolicy: token && token.ice_transport_policy === "relay" ? "relay" : "all",
  };
}

// TURN credentials from the token route ("<expiry>:<user id>") lapse with the token, and a connection made
// for someone who joins later uses the ones held then: fetch a fresh token this long before they expire.
// null: the token carries no short-lived credentials, nothing to renew.
export const ICE_RENEW_AHEAD_S = 90;
export const ICE_RENEW_MIN_MS = 15000;
export function iceRenewDelayMs(token, nowMs) {
  const servers = token && Array.isArray(token.ice_servers) ? token.ice_servers : [];
  const expiries = servers
    .map((s) => /^(\d+):/.exec((s && typeof s.username === "string" && s.username) || ""))
    .filter(Boolean)
    .map((m) => Number(m[1]));
  if (!expiries.length) return null;
  return Math.max(ICE_RENEW_MIN_MS, (Math.min(...expiries) - ICE_RENEW_AHEAD_S) * 1000 - nowMs);
}
