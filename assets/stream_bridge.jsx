// Yoom <-> Stream Video bridge: the one piece of hand-written JSX behind the Stream meeting room.
//
// `YoomStreamCall` asks Yoom's token route who the signed-in user is (the server decides, from the
// session cookie), creates the Stream client once per user, loads the call `{callType}:{callId}` and
// renders the SDK's context providers (StreamVideo / StreamTheme / StreamCall) around its children,
// which are the SDK parts composed in Python (yoom/components/stream_room.py). It tells Python what
// happens through event triggers: onReady, onJoined, onLeft, onCallEnded, onError(message).
// Every wait is bounded: if Stream cannot be reached, onError fires instead of an endless spinner.
//
// In the call it also opens Yoom's room channel (room_channel/: the same socket and client as the
// embedded provider's, without media) for chat, raised hands, reactions and app messages, reported to
// Python as onChat, onHands, onRoomMessage, onRoomNotice; keyboard shortcuts as onShortcut. The layouts
// Python composes (YoomSpeakerLayout, YoomPaginatedGridLayout) are the SDK's with a tile overlay that
// shows raised hands and reactions. Recording stays Stream's own (its CallControls).
//
// Loaded only through a client-side dynamic import (Reflex NoSSRComponent), so the SDK and its CSS
// land in chunks that only the meeting route downloads.
import { createContext, createElement, Fragment, useContext, useEffect, useRef, useState } from "react";
import {
  CallingState,
  DefaultParticipantViewUI,
  PaginatedGridLayout,
  SpeakerLayout,
  StreamCall,
  StreamTheme,
  StreamVideo,
  StreamVideoClient,
  useCallStateHooks,
  useParticipantViewContext,
} from "@stream-io/video-react-sdk";
import "@stream-io/video-react-sdk/dist/css/styles.css";
import "./stream_room.css";
import env from "$/env.json";
import { getBackendURL } from "$/utils/state";
import { announcements, appendAnnouncements, VISUALLY_HIDDEN } from "./room_channel/announce.js";
import { RoomChannelClient } from "./room_channel/client.js";
import { readProtocol, wsUrl } from "./room_channel/protocol.js";
import { registerRoom, RoomModel } from "./room_channel/room.js";
import { listenForShortcuts } from "./room_channel/shortcuts.js";
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
const fetchToken = (signal, callId) => fetchVideoToken(tokenURL(), { signal, callId });

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

async function acquireClient({ apiKey, user, token, baseURL, expectedUserId, callId }) {
  const key = `${apiKey}/${user.id}/${baseURL || ""}/${callId || ""}`;
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
        const fresh = await fetchToken(undefined, callId);
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

// Stream's "not allowed": its call type lets in only the people Yoom let in (a removed person is blocked).
const STREAM_NOT_ALLOWED = 17;

// What to tell the person about `err`. When Stream refused them the call, Yoom's door knows why (removed, not
// let in yet …): the token route answers with those words, whichever of Stream's refusal and the room
// channel's reaches the page first.
async function explain(err, callId) {
  if (err?.code === STREAM_NOT_ALLOWED) {
    try {
      await fetchToken(undefined, callId);
    } catch (tokenErr) {
      if (tokenErr instanceof TokenError && tokenErr.reason === "refused") return tokenErr.message;
    }
  }
  return describe(err);
}

function describe(err) {
  if (err instanceof BridgeError || err instanceof TokenError) return err.message;
  const status = err?.status ?? err?.response?.status;
  const code = err?.code;
  if (code === STREAM_NOT_ALLOWED) return "The video service didn't let you into this call.";
  if (status === 401 || status === 403 || code === 2 || code === 5 || code === 40 || code === 43) {
    return "The video service refused Yoom's credentials (check STREAM_API_KEY and STREAM_API_SECRET).";
  }
  if (status === 404 || code === 16) {
    return "This call does not exist on the video service.";
  }
  return "The video service could not be reached. Check your connection and try again.";
}

const seconds = (ms) => Math.max(1, Math.round(ms / 1000));

// The room channel's model (room_channel/room.js) and a version that changes with it, for the tiles.
const RoomContext = createContext(null);

// Over each of the SDK's tiles: the raised hand (its place in the queue) and the reactions.
function YoomParticipantViewUI() {
  const { participant } = useParticipantViewContext();
  const ctx = useContext(RoomContext);
  const badges = [];
  if (ctx && ctx.model && participant) {
    const { model } = ctx;
    const peerId = [...model.members.entries()].find(([, m]) => m.user.id === participant.userId)?.[0];
    const place = peerId ? model.handPositions()[peerId] : 0;
    const name = participant.name || participant.userId;
    if (place) {
      badges.push(
        createElement(
          "div",
          { key: "hand", className: "yoom-stream-hand", "data-testid": "hand-raised", role: "img", "aria-label": `${name} raised their hand (${place})` },
          "✋ ",
          createElement("b", null, place),
        ),
      );
    }
    const floating = (peerId && model.liveReactions()[peerId]) || [];
    if (floating.length) {
      badges.push(
        createElement(
          "div",
          { key: "reactions", className: "yoom-stream-reactions", "aria-live": "polite" },
          floating.map((r) =>
            createElement("span", { key: r.key, className: "yoom-stream-reaction", "data-testid": "reaction", role: "img", "aria-label": `${name} reacted ${r.emoji}` }, r.emoji),
          ),
        ),
      );
    }
  }
  return createElement(Fragment, null, createElement(DefaultParticipantViewUI), ...badges);
}

const overlay = createElement(YoomParticipantViewUI);

export function YoomSpeakerLayout(props) {
  return createElement(SpeakerLayout, { ...props, ParticipantViewUISpotlight: overlay, ParticipantViewUIBar: overlay });
}

export function YoomPaginatedGridLayout(props) {
  return createElement(PaginatedGridLayout, { ...props, ParticipantViewUI: overlay });
}

// The SDK's call controls are icon buttons with no name (axe: "button-name", critical): name them by
// what they do, from their test ids, as they appear. A menu toggle beside one is that button's options.
const SDK_BUTTON_NAMES = [
  ["audio-", "Toggle microphone"],
  ["video-", "Toggle camera"],
  ["screen-share-", "Share screen"],
  ["recording-", "Record"],
  ["cancel-call", "Leave call"],
  ["reaction", "Reactions"],
  ["stats", "Call statistics"],
];
// Buttons with no test id, known by their icon.
const SDK_ICON_NAMES = [["reactions", "Reactions"]];

function sdkButtonName(button) {
  const id = button.getAttribute("data-testid") || "";
  const known = SDK_BUTTON_NAMES.find(([prefix]) => id.startsWith(prefix));
  if (known) return known[1];
  const icon = SDK_ICON_NAMES.find(([name]) => button.querySelector(`.str-video__icon--${name}`));
  if (icon) return icon[1];
  if (button.classList.contains("str-video__menu-toggle-button")) {
    const group = button.closest(".str-video__composite-button");
    const main = group && group.querySelector("[data-testid]");
    const owner = main && main !== button ? sdkButtonName(main) : "";
    return owner ? `${owner.replace(/^Toggle /, "")} options`.replace(/^./, (c) => c.toUpperCase()) : "More options";
  }
  return "";
}

function nameSdkButtons(root) {
  for (const button of root.querySelectorAll(".str-video button")) {
    if (button.getAttribute("aria-label") || button.textContent.trim()) continue;
    const name = sdkButtonName(button) || button.getAttribute("title") || "";
    if (name) button.setAttribute("aria-label", name);
  }
}

function useNamedSdkButtons(active) {
  useEffect(() => {
    if (!active) return undefined;
    nameSdkButtons(document.body);
    const observer = new MutationObserver(() => nameSdkButtons(document.body));
    observer.observe(document.body, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, [active]);
}

// For screen readers: who joined or left, and "Reconnecting…" (room_channel/announce.js), out of sight.
const RECONNECTING_STATES = new Set([CallingState.RECONNECTING, CallingState.MIGRATING, CallingState.OFFLINE]);

export function YoomCallAnnouncer() {
  const { useRemoteParticipants, useCallCallingState } = useCallStateHooks();
  const remote = useRemoteParticipants();
  const calling = useCallCallingState();
  const previous = useRef({ people: null, status: "" });
  const [messages, setMessages] = useState([]);
  useEffect(() => {
    const status = calling === CallingState.JOINED ? "joined" : RECONNECTING_STATES.has(calling) ? "reconnecting" : calling;
    const people = status === "joined" ? new Map(remote.map((p) => [p.sessionId, p.name || p.userId])) : null;
    const said = announcements(previous.current, { people, status });
    previous.current = { people: people || previous.current.people, status };
    if (said.length) setMessages((list) => appendAnnouncements(list, said, (list.at(-1)?.id || 0) + 1));
  }, [remote, calling]);
  return createElement(
    "div",
    { role: "log", "aria-live": "polite", "aria-relevant": "additions", "data-testid": "call-announcements", style: VISUALLY_HIDDEN },
    messages.map((m) => createElement("p", { key: m.id }, m.text)),
  );
}

// The room channel while in the call: chat, hands, reactions, app messages; the keyboard shortcuts.
function useRoomChannel({ session, join, callId, wsRoute, protocol, handlers }) {
  const [room, setRoom] = useState(null);
  useEffect(() => {
    if (!session || !join || !callId) return undefined;
    const { call } = session;
    const notify = (name) => (arg) => handlers.current[name]?.(arg);
    let version = 0;
    const model = new RoomModel({
      callbacks: () => ({
        onChat: notify("onChat"),
        onHands: notify("onHands"),
        onRoomMessage: notify("onRoomMessage"),
        onNotice: notify("onRoomNotice"),
        onMuteRequest: () => call.microphone.disable().catch((err) => console.warn("Stream: microphone", err)),
        onChange: () => setRoom({ model, version: (version += 1) }),
      }),
    });
    const backend = getBackendURL(env.PING);
    const client = new RoomChannelClient({
      callId,
      tokenUrl: tokenURL(),
      wsBase: wsUrl(wsRoute, backend),
      protocol: readProtocol(protocol),
      handlers: {
        onFrame: (msg) => model.onFrame(msg),
        onReconnecting: () => {},
        onEnded: () => {}, // Stream says when the call ends
        onFailed: (message, { shutOut } = {}) => {
          if (shutOut) {
            // Yoom's door closed on this person (removed, say): out of Stream's call too, with Yoom's words.
            // Stream's own refusal of them, which may follow (a block), is the same news: not reported.
            session.shutOut = true;
            call.leave().catch(() => {});
            handlers.current.onError?.(message);
            return;
          }
          handlers.current.onRoomNotice?.({ for: "room", message: `Chat, hands and reactions are unavailable: ${message}` });
        },
      },
    });
    model.send = (frame) => client.send(frame);
    const unregister = registerRoom(model, {
      toggleMic: () => call.microphone.toggle().catch((err) => console.warn("Stream: microphone", err)),
      toggleCamera: () => call.camera.toggle().catch((err) => console.warn("Stream: camera", err)),
    });
    const stopShortcuts = listenForShortcuts(document, (action) => {
      if (action === "mic") window.yoomRoom?.toggleMic();
      else if (action === "camera") window.yoomRoom?.toggleCamera();
      else if (action === "hand") model.toggleHand();
      else handlers.current.onShortcut?.(action);
    });
    client.start();
    window.__yoomRoomChannel = client; // for tests (dropping the socket)
    setRoom({ model, version });
    return () => {
      stopShortcuts();
      unregister();
      client.stop();
      if (window.__yoomRoomChannel === client) window.__yoomRoomChannel = null;
      setRoom(null);
    };
  }, [session, join, callId, wsRoute]); // eslint-disable-line react-hooks/exhaustive-deps
  return room;
}

export function YoomStreamCall({
  callId,
  callType,
  baseUrl,
  wsUrl: wsRoute = "/api/rtc",
  protocol,
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
  onChat,
  onHands,
  onRoomMessage,
  onRoomNotice,
  onShortcut,
  children,
}) {
  const [session, setSession] = useState(null);
  // The latest callbacks, read when something happens (props change on every render).
  const handlers = useRef({});
  handlers.current = { onReady, onJoined, onLeft, onCallEnded, onError, onChat, onHands, onRoomMessage, onRoomNotice, onShortcut };

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
        const first = await fetchToken(abort.signal, callId);
        if (!active) return;
        const user = streamUser(first.user);
        lease = await acquireClient({
          apiKey: String(first.api_key),
          user,
          token: first.token,
          baseURL: baseUrl || undefined,
          expectedUserId: user.id,
          callId,
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
        explain(err, callId).then(fail);
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
        if (!current || session.shutOut) return;
        console.warn("Stream: join failed", err);
        explain(err, callId).then((words) => current && !session.shutOut && handlers.current.onError?.(words));
      },
    );
    return () => {
      current = false;
    };
  }, [session, join, joinTimeoutMs, callId]);

  const room = useRoomChannel({ session, join, callId, wsRoute, protocol, handlers });
  useNamedSdkButtons(!!session);

  // Left / ended / connection lost, reported once per session.
  useEffect(() => {
    if (!session) return;
    const { call } = session;
    let reported = false;
    let wasJoined = call.state.callingState === CallingState.JOINED;
    const report = (what, arg) => {
      if (reported || session.shutOut) return;
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
      createElement(
        StreamCall,
        { call: session.call },
        createElement(RoomContext.Provider, { value: room }, children),
      ),
    ),
  );
}

export default YoomStreamCall;
