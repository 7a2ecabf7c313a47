// Yoom <-> Stream Video bridge: the one piece of hand-written JSX behind the Stream meeting room.
//
// `YoomStreamCall` asks Yoom's token route who the signed-in user is (the server decides, from the
// session cookie), creates the Stream client once per user, loads the call `{callType}:{callId}` and
// renders the SDK's context providers (StreamVideo / StreamTheme / StreamCall) around its children,
// which are the SDK parts composed in Python (yoom/components/stream_room.py). It tells Python what
// happens through event triggers: onReady, onJoined, onLeft, onCallEnded, onError(message).
// Every wait is bounded: if Stream cannot be reached, onError fires instead of an endless spinner.
//
// Loaded only through a client-side dynamic import (Reflex NoSSRComponent), so the SDK and its CSS
// land in chunks that only the meeting route downloads.
import { createElement, useEffect, useRef, useState } from "react";
import {
  CallingState,
  StreamCall,
  StreamTheme,
  StreamVideo,
  StreamVideoClient,
} from "@stream-io/video-react-sdk";
import "@stream-io/video-react-sdk/dist/css/styles.css";
import env from "$/env.json";
import { getBackendURL } from "$/utils/state";
import { fetchVideoToken, TOKEN_PATH, TokenError, tokenURL as videoTokenURL } from "./yoom_token.js";

export { TOKEN_PATH };
// Open meetings and personal rooms; invite-only ones live on Yoom's own type (the `callType` prop).
const DEFAULT_CALL_TYPE = "default";

class BridgeError extends Error {}

// The backend's origin (a separate port in dev, the same one in prod), as Reflex's own code finds it.
export function tokenURL() {
  return videoTokenURL(getBackendURL(env.PING));
}

// POST the token route with the session cookie. Resolves to {token, api_key, user:{id,name,image}, ...}.
const fetchToken = (signal) => fetchVideoToken(tokenURL(), { signal });

function streamUser(user) {
  const out = { id: String(user.id) };
  if (user.name) out.name = String(user.name);
  if (user.image) out.image = String(user.image);
  return out;
}

// ---- one client per (api key, user, base URL), shared by every mount, disconnected when unused ----
// StrictMode mounts, unmounts and mounts again: the disconnect is deferred by a tick and cancelled
// by the next mount, and a mount that arrives while a disconnect is in flight waits for it.
const leases = new Map();

async function acquireClient({ apiKey, user, token, baseURL, expectedUserId }) {
  const key = `${apiKey}/${user.id}/${baseURL || ""}`;
  let entry = leases.get(key);
  while (entry && entry.disposing) {
    await entry.disposing;
    entry = leases.get(key);
  }
  if (!entry) {
    const options = {};
    if (baseURL) options.baseURL = baseURL;
    const client = StreamVideoClient.getOrCreateInstance({
      apiKey,
      user,
      token,
      // Called by the SDK whenever the token has expired: a fresh one from the server, no reload.
      tokenProvider: async () => {
        const fresh = await fetchToken();
        if (String(fresh.user.id) !== expectedUserId) {
          throw new BridgeError("You signed in as someone else in another tab. Reload the page.");
        }
        return fresh.token;
      },
      options,
    });
    entry = { key, client, count: 0, timer: null, disposing: null };
    leases.set(key, entry);
  }
  clearTimeout(entry.timer);
  entry.timer = null;
  entry.count += 1;
  let released = false;
  const held = entry;
  return {
    client: held.client,
    release() {
      if (released) return;
      released = true;
      held.count -= 1;
      if (held.count > 0) return;
      held.timer = setTimeout(() => {
        held.timer = null;
        if (held.count > 0) return;
        held.disposing = held.client
          .disconnectUser()
          .catch((err) => console.warn("Stream: disconnect failed", err))
          .finally(() => {
            if (leases.get(key) === held) leases.delete(key);
            held.disposing = null;
          });
      }, 0);
    },
  };
}

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new BridgeError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(err) {
  if (err instanceof BridgeError || err instanceof TokenError) return err.message;
  const status = err?.status ?? err?.response?.status;
  const code = err?.code;
  if (status === 401 || status === 403 || code === 2 || code === 5 || code === 40 || code === 43) {
    return "The video service refused Yoom's credentials (check STREAM_API_KEY and STREAM_API_SECRET).";
  }
  if (status === 404 || code === 16) {
    return "This call does not exist on the video service.";
  }
  return "The video service could not be reached. Check your connection and try again.";
}

const seconds = (ms) => Math.max(1, Math.round(ms / 1000));

export function YoomStreamCall({
  callId,
  callType,
  baseUrl,
  timeoutMs = 8000,
  joinTimeoutMs = 15000,
  join = false,
  micOff = false,
  cameraOff = false,
  connectingLabel = "Connecting to the video service…",
  className,
  onReady,
  onJoined,
  onLeft,
  onCallEnded,
  onError,
  children,
}) {
  const [session, setSession] = useState(null);
  // The latest callbacks, read when something happens (props change on every render).
  const handlers = useRef({});
  handlers.current = { onReady, onJoined, onLeft, onCallEnded, onError };

  // Connect: token -> client -> call.get(), all within timeoutMs; torn down on unmount or error.
  useEffect(() => {
    let active = true;
    let lease = null;
    let call = null;
    const abort = new AbortController();
    const teardown = () => {
      if (call && call.state.callingState !== CallingState.LEFT) {
        // Leaving also stops the camera and microphone the preview opened.
        call.leave().catch(() => {});
      }
      call = null;
      if (lease) lease.release();
      lease = null;
    };
    const fail = (message) => {
      if (!active) return;
      active = false;
      abort.abort();
      teardown();
      setSession(null);
      handlers.current.onError?.(message);
    };
    if (!callId || typeof callId !== "string") {
      fail("This meeting link has no call id.");
      return () => {};
    }
    const timer = setTimeout(
      () => fail(`The video service did not answer within ${seconds(timeoutMs)} seconds. Check your connection and try again.`),
      timeoutMs,
    );
    (async () => {
      try {
        const first = await fetchToken(abort.signal);
        if (!active) return;
        const user = streamUser(first.user);
        lease = await acquireClient({
          apiKey: String(first.api_key),
          user,
          token: first.token,
          baseURL: baseUrl || undefined,
          expectedUserId: user.id,
        });
        if (!active) {
          lease.release();
          lease = null;
          return;
        }
        call = lease.client.call(callType || DEFAULT_CALL_TYPE, callId);
        await call.get();
        if (!active) return;
        clearTimeout(timer);
        setSession({ client: lease.client, call, joining: null });
        handlers.current.onReady?.();
      } catch (err) {
        if (err?.name === "AbortError" || !active) return;
        clearTimeout(timer);
        console.warn("Stream: could not open the call", err);
        fail(describe(err));
      }
    })();
    return () => {
      active = false;
      clearTimeout(timer);
      abort.abort();
      teardown();
      setSession(null);
    };
  }, [callId, callType, baseUrl, timeoutMs]);

  // Camera and microphone before joining ("Join with mic and camera off").
  useEffect(() => {
    if (!session) return;
    const { call } = session;
    (cameraOff ? call.camera.disable() : call.camera.enable()).catch((err) =>
      console.warn("Stream: camera", err),
    );
    (micOff ? call.microphone.disable() : call.microphone.enable()).catch((err) =>
      console.warn("Stream: microphone", err),
    );
  }, [session, micOff, cameraOff]);

  // Join once Python says so; the join promise lives on the session so a re-run waits for the same one.
  useEffect(() => {
    if (!session || !join) return;
    let current = true;
    if (!session.joining) {
      session.joining = withTimeout(
        session.call.join(),
        joinTimeoutMs,
        `Joining the call took longer than ${seconds(joinTimeoutMs)} seconds. Try again.`,
      );
    }
    session.joining.then(
      () => current && handlers.current.onJoined?.(),
      (err) => {
        if (!current) return;
        console.warn("Stream: join failed", err);
        handlers.current.onError?.(describe(err));
      },
    );
    return () => {
      current = false;
    };
  }, [session, join, joinTimeoutMs]);

  // Left / ended / connection lost, reported once per session.
  useEffect(() => {
    if (!session) return;
    const { call } = session;
    let reported = false;
    let wasJoined = call.state.callingState === CallingState.JOINED;
    const report = (what, arg) => {
      if (reported) return;
      reported = true;
      handlers.current[what]?.(arg);
    };
    const offEnded = call.on("call.ended", () => report("onCallEnded"));
    const subscription = call.state.callingState$.subscribe((state) => {
      if (state === CallingState.JOINED) {
        wasJoined = true;
      } else if (state === CallingState.LEFT && wasJoined) {
        report(call.state.endedAt ? "onCallEnded" : "onLeft");
      } else if (state === CallingState.RECONNECTING_FAILED) {
        report("onError", "The connection to the call was lost. Try again.");
      }
    });
    return () => {
      offEnded();
      subscription.unsubscribe();
    };
  }, [session]);

  if (!session) {
    return createElement(
      "div",
      { className: "yoom-stream-connecting", role: "status", "aria-live": "polite" },
      connectingLabel,
    );
  }
  return createElement(
    StreamVideo,
    { client: session.client },
    createElement(
      StreamTheme,
      { className },
      createElement(StreamCall, { call: session.call }, children),
    ),
  );
}

export default YoomStreamCall;
