// What happens in the room besides media, as the room channel tells it (yoom/rtc/room.py): chat, raised
// hands, reactions, app messages of Python-written controls. Pure (no DOM, no React, no Reflex), so
// tests/js runs it as it is; both bridges feed it every frame and read it back.
//
// Python hears about it through the bridges' event triggers, in plain shapes:
//   onChat([{id, user_id, name, text, sent_at, mine, history}])   new messages, oldest first
//   onHands([{peer_id, user_id, name, at, mine}])          every raised hand, in the order raised
//   onRoomMessage({type, from: {peer_id, user_id, name, is_host}, payload})   an app message
//   onNotice({for, message})                               the server refused something of mine (or
//                                                          the host asked everyone to mute: onMuteRequest())

export const REACTION_MS = 4000; // how long a reaction floats over its sender's tile
const MAX_MESSAGES = 1000; // kept in the browser (the server keeps them all)

const text = (value, fallback = "") => (typeof value === "string" ? value : fallback);

export class RoomModel {
  // callbacks: () => the latest {onChat, onHands, onRoomMessage, onNotice, onChange}; now: a clock.
  constructor({ callbacks = () => ({}), now = () => Date.now() } = {}) {
    this.callbacks = callbacks;
    this.now = now;
    this.me = null; // my peer id
    this.myUserId = "";
    this.isHost = false;
    this.members = new Map(); // peer_id -> {user: {id, name}, handAt: number | null}
    this.messages = new Map(); // id -> message (Python's shape)
    this.reactions = []; // [{key, peerId, emoji, until}]
    this.reactionCount = 0;
    this.send = () => false; // set by the bridge: send(frame) -> whether it went
  }

  call(name, ...args) {
    const fn = this.callbacks()[name];
    if (typeof fn !== "function") return;
    try {
      fn(...args);
    } catch (err) {
      console.error(`[yoom] ${name} failed`, err);
    }
  }

  // --- frames in ---------------------------------------------------------------------------

  // Returns true when it was one of the room's frames (the mesh engine handles the others).
  onFrame(msg) {
    switch (msg.type) {
      case "welcome":
        this.me = text(msg.peer_id) || null;
        this.myUserId = text((msg.user || {}).id);
        this.isHost = !!msg.is_owner;
        this.members = new Map();
        this.addMember({ peer_id: msg.peer_id, user: msg.user, hand_raised_at: null });
        for (const p of Array.isArray(msg.peers) ? msg.peers : []) this.addMember(p);
        this.send({ type: "chat-history" });
        this.handsChanged();
        return false; // the mesh engine needs it too
      case "peer-joined":
        if (msg.peer) this.addMember(msg.peer);
        this.handsChanged();
        return false;
      case "peer-left":
        if (this.members.delete(msg.peer_id)) this.handsChanged();
        return false;
      case "chat-history":
        // All of it again, known ones too: after a rejoin the page's Python state may have started afresh
        // (a restarted server); Python keeps each message once.
        this.addMessages(Array.isArray(msg.messages) ? msg.messages : [], true, true);
        return true;
      case "chat":
        if (msg.message) this.addMessages([msg.message]);
        return true;
      case "hand": {
        const m = this.members.get(msg.peer_id);
        if (m) m.handAt = msg.raised && typeof msg.at === "number" ? msg.at : null;
        this.handsChanged();
        return true;
      }
      case "reaction":
        this.addReaction(msg.peer_id, msg.emoji);
        return true;
      case "app":
        this.call("onRoomMessage", this.appMessage(msg));
        return true;
      case "mute-request":
        // The host asked everyone to mute (yoom/lobby.py): the bridge turns my microphone off.
        this.call("onMuteRequest");
        this.call("onNotice", { for: "mute", message: "The host asked everyone to mute: your microphone is off." });
        return true;
      case "refused":
        this.call("onNotice", { for: text(msg.for), message: text(msg.message) });
        return true;
      default:
        return false;
    }
  }

  addMember(p) {
    if (!p || !p.peer_id) return;
    const user = p.user || {};
    this.members.set(p.peer_id, {
      user: { id: text(user.id), name: text(user.name, "Guest") },
      handAt: typeof p.hand_raised_at === "number" ? p.hand_raised_at : null,
    });
  }

  // history: sent before I came in (Python counts no unread for those).
  // again: report the ones already known too.
  addMessages(list, history = false, again = false) {
    const fresh = [];
    for (const m of list) {
      if (!m || typeof m.id !== "number") continue;
      if (this.messages.has(m.id)) {
        if (again) fresh.push(this.messages.get(m.id));
        continue;
      }
      const user = m.user || {};
      const shaped = {
        id: m.id,
        user_id: text(user.id),
        name: text(user.name, "Guest"),
        text: text(m.text),
        sent_at: text(m.sent_at),
        mine: !!this.myUserId && text(user.id) === this.myUserId,
        history,
      };
      this.messages.set(m.id, shaped);
      fresh.push(shaped);
    }
    if (!fresh.length) return;
    fresh.sort((a, b) => a.id - b.id);
    while (this.messages.size > MAX_MESSAGES) this.messages.delete(this.messages.keys().next().value);
    this.call("onChat", fresh);
    this.call("onChange");
  }

  addReaction(peerId, emoji) {
    if (typeof emoji !== "string" || !peerId) return;
    const now = this.now();
    this.reactionCount += 1;
    this.reactions = [
      ...this.reactions.filter((r) => r.until > now),
      { key: `${peerId}-${this.reactionCount}`, peerId, emoji, until: now + REACTION_MS },
    ].slice(-30);
    this.call("onChange");
    // Once it has floated away, the views drop it.
    setTimeout(() => this.call("onChange"), REACTION_MS + 50);
  }

  appMessage(msg) {
    const from = msg.from || {};
    const user = from.user || {};
    return {
      type: text(msg.name),
      from: { peer_id: text(from.peer_id), user_id: text(user.id), name: text(user.name, "Guest"), is_host: !!from.is_host },
      payload: msg.payload === undefined ? null : msg.payload,
    };
  }

  // --- what the views and Python read --------------------------------------------------------

  // Raised hands in the order they went up.
  hands() {
    return [...this.members.entries()]
      .filter(([, m]) => m.handAt !== null)
      .sort((a, b) => a[1].handAt - b[1].handAt)
      .map(([peerId, m]) => ({ peer_id: peerId, user_id: m.user.id, name: m.user.name, at: m.handAt, mine: peerId === this.me }));
  }

  // Where each raised hand stands in the queue (1, 2, …) by peer id.
  handPositions() {
    const out = {};
    this.hands().forEach((h, i) => {
      out[h.peer_id] = i + 1;
    });
    return out;
  }

  myHandRaised() {
    const m = this.me && this.members.get(this.me);
    return !!(m && m.handAt !== null);
  }

  // The reactions still floating, by sender.
  liveReactions() {
    const now = this.now();
    const out = {};
    for (const r of this.reactions) if (r.until > now) (out[r.peerId] = out[r.peerId] || []).push(r);
    return out;
  }

  handsChanged() {
    this.call("onHands", this.hands());
    this.call("onChange");
  }

  // --- what I send -------------------------------------------------------------------------

  chat(message) {
    return this.send({ type: "chat", text: message });
  }

  toggleHand() {
    return this.send({ type: "hand", raised: !this.myHandRaised() });
  }

  lowerHand(peerId) {
    return this.send(peerId === "*" ? { type: "hand", raised: false, all: true } : { type: "hand", raised: false, peer_id: peerId });
  }

  react(emoji) {
    return this.send({ type: "reaction", emoji });
  }

  app(name, payload = null) {
    return this.send({ type: "app", name, payload });
  }
}

// The page's current room, for what Python sends without a round trip (rx.call_script in
// yoom/components/room_messages.py) and for the keyboard shortcuts: set by the bridge in the call.
// actions: {toggleMic(), toggleCamera()} — the provider's own.
export function registerRoom(model, actions) {
  if (typeof window === "undefined") return () => {};
  const api = {
    send: (name, payload) => model.app(name, payload),
    chat: (message) => model.chat(message),
    toggleHand: () => model.toggleHand(),
    lowerHand: (peerId) => model.lowerHand(peerId),
    react: (emoji) => model.react(emoji),
    toggleMic: () => actions.toggleMic && actions.toggleMic(),
    toggleCamera: () => actions.toggleCamera && actions.toggleCamera(),
  };
  window.yoomRoom = api;
  return () => {
    if (window.yoomRoom === api) window.yoomRoom = null;
  };
}
