// The room model (assets/room_channel/room.js): frames in, what Python and the tiles get out.
import { expect, test } from "bun:test";
import { REACTION_MS, RoomModel } from "../../assets/room_channel/room.js";

function makeRoom() {
  const seen = { chat: [], hands: [], app: [], notices: [], sent: [], mutes: 0 };
  let clock = 1000;
  const room = new RoomModel({
    callbacks: () => ({
      onChat: (m) => seen.chat.push(...m),
      onHands: (h) => seen.hands.push(h),
      onRoomMessage: (m) => seen.app.push(m),
      onNotice: (n) => seen.notices.push(n),
      onMuteRequest: () => (seen.mutes += 1),
    }),
    now: () => clock,
  });
  room.send = (frame) => {
    seen.sent.push(frame);
    return true;
  };
  return { room, seen, tick: (ms) => (clock += ms) };
}

const welcome = {
  type: "welcome",
  peer_id: "me",
  user: { id: "u1", name: "Me" },
  is_owner: true,
  peers: [
    { peer_id: "p2", user: { id: "u2", name: "Bo" }, hand_raised_at: 20 },
    { peer_id: "p3", user: { id: "u3", name: "Cy" }, hand_raised_at: 10 },
  ],
};

test("the welcome asks for the chat so far and reports the hands already up, in order", () => {
  const { room, seen } = makeRoom();
  expect(room.onFrame(welcome)).toBe(false); // the mesh engine needs it too
  expect(seen.sent).toEqual([{ type: "chat-history" }]);
  expect(seen.hands.at(-1).map((h) => h.name)).toEqual(["Cy", "Bo"]);
  expect(room.handPositions()).toEqual({ p3: 1, p2: 2 });
});

test("chat: history then live messages, once each, in id order, mine marked; history flagged", () => {
  const { room, seen } = makeRoom();
  room.onFrame(welcome);
  const msg = (id, uid, text) => ({ id, user: { id: uid, name: uid }, text, sent_at: "2026-01-01T10:00:00Z" });
  expect(room.onFrame({ type: "chat-history", messages: [msg(2, "u2", "b"), msg(1, "u1", "a")] })).toBe(true);
  room.onFrame({ type: "chat", message: { ...msg(3, "u3", "<b>c</b>"), peer_id: "p3" } });
  room.onFrame({ type: "chat", message: msg(3, "u3", "again") }); // a repeat (reconnect): dropped
  room.onFrame({ type: "chat", message: { id: "x", text: "no id" } });
  expect(seen.chat.map((m) => [m.id, m.text, m.mine, m.history])).toEqual([
    [1, "a", true, true],
    [2, "b", false, true],
    [3, "<b>c</b>", false, false],
  ]);
});

test("a rejoin's chat history reports every message again (the page's state may have started afresh)", () => {
  const { room, seen } = makeRoom();
  room.onFrame(welcome);
  const msg = (id, text) => ({ id, user: { id: "u2", name: "Bo" }, text, sent_at: "2026-01-01T10:00:00Z" });
  room.onFrame({ type: "chat-history", messages: [msg(1, "a")] });
  room.onFrame({ type: "chat", message: msg(2, "b") });
  room.onFrame(welcome);
  seen.chat = [];
  room.onFrame({ type: "chat-history", messages: [msg(1, "a"), msg(2, "b")] });
  expect(seen.chat.map((m) => [m.id, m.text])).toEqual([
    [1, "a"],
    [2, "b"],
  ]);
});

test("hands go up and down; the host lowers someone's or everyone's", () => {
  const { room, seen } = makeRoom();
  room.onFrame(welcome);
  room.onFrame({ type: "hand", peer_id: "me", raised: true, at: 30 });
  expect(room.myHandRaised()).toBe(true);
  expect(room.hands().map((h) => [h.peer_id, h.mine])).toEqual([
    ["p3", false],
    ["p2", false],
    ["me", true],
  ]);
  room.toggleHand();
  room.lowerHand("p2");
  room.lowerHand("*");
  expect(seen.sent.slice(1)).toEqual([
    { type: "hand", raised: false },
    { type: "hand", raised: false, peer_id: "p2" },
    { type: "hand", raised: false, all: true },
  ]);
  room.onFrame({ type: "peer-left", peer_id: "p3" });
  expect(room.hands().map((h) => h.peer_id)).toEqual(["p2", "me"]);
});

test("reactions float for a while over their sender; app messages and refusals reach Python", () => {
  const { room, seen, tick } = makeRoom();
  room.onFrame(welcome);
  room.onFrame({ type: "reaction", peer_id: "p2", emoji: "🎉", user: { id: "u2" } });
  expect(room.liveReactions().p2.map((r) => r.emoji)).toEqual(["🎉"]);
  tick(REACTION_MS + 1);
  expect(room.liveReactions()).toEqual({});
  room.onFrame({ type: "app", name: "clap", from: { peer_id: "p2", user: { id: "u2", name: "Bo" }, is_host: false }, payload: { n: 1 } });
  expect(seen.app).toEqual([{ type: "clap", from: { peer_id: "p2", user_id: "u2", name: "Bo", is_host: false }, payload: { n: 1 } }]);
  room.onFrame({ type: "refused", for: "chat", message: "Too fast." });
  expect(seen.notices).toEqual([{ for: "chat", message: "Too fast." }]);
  expect(room.onFrame({ type: "signal", from: "p2", data: {} })).toBe(false);
  room.app("clap", { n: 2 });
  room.react("👍");
  room.chat("hi");
  expect(seen.sent.slice(-3)).toEqual([
    { type: "app", name: "clap", payload: { n: 2 } },
    { type: "reaction", emoji: "👍" },
    { type: "chat", text: "hi" },
  ]);
});

test("the host's request to mute turns my microphone off and says so", () => {
  const { room, seen } = makeRoom();
  room.onFrame(welcome);
  expect(room.onFrame({ type: "mute-request" })).toBe(true);
  expect(seen.mutes).toBe(1);
  expect(seen.notices).toEqual([{ for: "mute", message: "The host asked everyone to mute: your microphone is off." }]);
});
