// Yoom <-> Clerk bridge: keeps Yoom's session cookie in step with the browser's Clerk session.
//
// `YoomClerkProvider` wraps the whole app in Clerk mode (an app wrap, yoom/components/clerk.py): it renders
// Clerk's <ClerkProvider> and, inside it, a component that does what only the browser can:
//
// * Clerk reports a signed-in session -> its session token (getToken()) is POSTed to Yoom's
//   /api/auth/clerk, which verifies it and sets the HttpOnly session cookie. When the answer says
//   {reload: true} (a new Yoom session), the page loads afresh so that Reflex's event socket reconnects
//   with the new cookie; Python's on_load then decides where the person goes.
// * While the page is open, a fresh token is posted every `refresh_in` seconds (the server's figure):
//   Yoom's session made from Clerk is short and lives only as long as fresh tokens keep coming.
// * Clerk signs out (the UserButton, another tab, a revoked session) -> POST /api/auth/sign-out, then,
//   on a page that needs a session, the sign-in page.
//
// Clerk navigates through `navigate` below (routerPush/routerReplace): it waits for the cookie round trip
// in flight, and stays put when Clerk asks for the page already shown (the sign-in page after a sign-in:
// the session sync above takes over from there).
//
// What happens is published to a small store that `ClerkSessionStatus` (placed on pages by Python)
// reports through its onChange(status, message) trigger: "loading", "signed_out", "signed_in" or
// "error". Python decides what is shown.
import { createElement, useEffect, useRef } from "react";
import { ClerkProvider, useAuth, useClerk } from "@clerk/clerk-react";
import env from "$/env.json";
import { getBackendURL } from "$/utils/state";

export const SYNC_PATH = "/api/auth/clerk";
export const SIGN_OUT_PATH = "/api/auth/sign-out";
const RETRY_MS = 15000;
const MAX_RETRIES = 4;
// A reload asked for twice within this time for the same Clerk session means the cookie isn't kept
// (blocked cookies, a Secure cookie on plain http): say so rather than reload forever.
const RELOAD_GUARD_MS = 20000;
const RELOAD_KEY = "yoom-clerk-reloaded";

class BridgeError extends Error {}

// The backend's origin (a separate port in dev, the same one in prod), as Reflex's own code finds it.
function backendURL(path) {
  const url = getBackendURL(env.PING);
  url.pathname = path;
  url.search = "";
  url.hash = "";
  return url.toString();
}

// ---- the status store ----------------------------------------------------------------------------
let current = { status: "loading", message: "" };
const subscribers = new Set();

function publish(status, message = "") {
  if (current.status === status && current.message === message) return;
  current = { status, message };
  subscribers.forEach((notify) => notify(current));
}

// ---- cookie round trips --------------------------------------------------------------------------
// Navigation waits for the latest one, so a page never loads before its cookie is set or cleared.
let inFlight = Promise.resolve();

function track(promise) {
  const settled = promise.then(
    () => {},
    () => {},
  );
  inFlight = Promise.all([inFlight, settled]);
  return promise;
}

function endYoomSession() {
  // keepalive: the request completes even if Clerk navigates away right after.
  return track(
    fetch(backendURL(SIGN_OUT_PATH), { method: "POST", credentials: "include", keepalive: true }).catch(
      () => {},
    ),
  );
}

async function postToken(token) {
  let response;
  try {
    response = await fetch(backendURL(SYNC_PATH), {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token }),
    });
  } catch {
    throw new BridgeError("Yoom's server can't be reached. Check your connection; Yoom will keep trying.");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const detail = body && typeof body.error === "string" && body.error;
    throw new BridgeError(detail || `Yoom could not sign you in with Clerk (HTTP ${response.status}).`);
  }
  if (!body || typeof body.reload !== "boolean" || !(body.refresh_in > 0)) {
    throw new BridgeError("Yoom's sign-in answer was malformed.");
  }
  return body;
}

async function navigate(to) {
  await inFlight;
  const url = new URL(to, window.location.href);
  if (url.origin === window.location.origin && url.pathname === window.location.pathname) return;
  window.location.assign(url.href);
}

function reloadOnce(sessionId) {
  const now = Date.now();
  let last = null;
  try {
    last = JSON.parse(window.sessionStorage.getItem(RELOAD_KEY) || "null");
  } catch {
    last = null;
  }
  if (last && last.sid === sessionId && now - last.at < RELOAD_GUARD_MS) return false;
  try {
    window.sessionStorage.setItem(RELOAD_KEY, JSON.stringify({ sid: sessionId, at: now }));
  } catch {
    // No sessionStorage: reload unguarded.
  }
  window.location.reload();
  return true;
}

function isPublicPage(paths) {
  const here = window.location.pathname.replace(/\/+$/, "") || "/";
  return paths.some((path) => here === path);
}

// ---- the session sync ----------------------------------------------------------------------------
function SessionSync({ signInUrl, signUpUrl }) {
  const clerk = useClerk();
  const { isLoaded, sessionId, getToken } = useAuth();
  const paths = useRef([signInUrl, signUpUrl]);
  paths.current = [signInUrl, signUpUrl];

  // Clerk's own sign-out runs this before it navigates (its setActive awaits it): Yoom's session ends
  // first, so the next page never shows a session Clerk no longer has.
  useEffect(() => {
    const previous = window.__unstable__onBeforeSetActive;
    window.__unstable__onBeforeSetActive = async (intent) => {
      if (typeof previous === "function") await previous(intent);
      if (intent === "sign-out") await endYoomSession();
    };
    return () => {
      window.__unstable__onBeforeSetActive = previous;
    };
  }, []);

  // clerk-js failed to load (Clerk out of reach, a blocked script): say so instead of waiting forever.
  useEffect(() => {
    const onStatus = (status) => {
      if (status === "error") {
        publish("error", "Clerk's sign-in could not be loaded. Check your connection and reload the page.");
      }
    };
    clerk.on?.("status", onStatus, { notify: true });
    return () => clerk.off?.("status", onStatus);
  }, [clerk]);

  useEffect(() => {
    if (!isLoaded) return undefined;
    if (!sessionId) {
      publish("signed_out");
      let active = true;
      endYoomSession().then(() => {
        if (active && !isPublicPage(paths.current)) {
          const next = window.location.pathname + window.location.search;
          window.location.assign(`${paths.current[0]}?next=${encodeURIComponent(next)}`);
        }
      });
      return () => {
        active = false;
      };
    }
    publish("signed_in");
    let active = true;
    let timer = null;
    let failures = 0;
    const sync = async () => {
      try {
        const token = await getToken();
        if (!active) return;
        if (!token) throw new BridgeError("Clerk gave no session token. Sign in again.");
        const answer = await track(postToken(token));
        if (!active) return;
        failures = 0;
        if (answer.reload) {
          if (reloadOnce(sessionId)) return;
          throw new BridgeError(
            "This browser isn't keeping Yoom's sign-in cookie. Allow cookies for this site (and use the " +
              "address Yoom is configured for: https if it is https), then reload.",
          );
        }
        publish("signed_in");
        timer = setTimeout(sync, answer.refresh_in * 1000);
      } catch (err) {
        if (!active) return;
        console.warn("Clerk: Yoom's session could not be renewed", err);
        publish("error", err instanceof BridgeError ? err.message : "Yoom could not sign you in with Clerk.");
        failures += 1;
        if (failures <= MAX_RETRIES) timer = setTimeout(sync, RETRY_MS);
      }
    };
    sync();
    return () => {
      active = false;
      clearTimeout(timer);
    };
  }, [isLoaded, sessionId, getToken]);

  return null;
}

export function YoomClerkProvider({
  publishableKey,
  clerkJsUrl,
  signInUrl = "/sign-in",
  signUpUrl = "/sign-up",
  afterSignOutUrl = "/sign-in",
  children,
}) {
  const options = {
    publishableKey,
    signInUrl,
    signUpUrl,
    afterSignOutUrl,
    routerPush: navigate,
    routerReplace: navigate,
  };
  if (clerkJsUrl) options.clerkJSUrl = clerkJsUrl;
  return createElement(
    ClerkProvider,
    options,
    createElement(SessionSync, { signInUrl, signUpUrl }),
    children,
  );
}

// Reports the bridge's status to Python: on mount, then on every change.
export function ClerkSessionStatus({ onChange }) {
  const handler = useRef(onChange);
  handler.current = onChange;
  useEffect(() => {
    const notify = (state) => handler.current?.(state.status, state.message);
    notify(current);
    subscribers.add(notify);
    return () => subscribers.delete(notify);
  }, []);
  return null;
}

export default YoomClerkProvider;
