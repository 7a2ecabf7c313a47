// Joining the room channel again without dropping the call (pure: no WebRTC, no DOM; tests/js runs it).
//
// Media is peer-to-peer: while the signaling socket is away (a dropped network, a server deploy) the
// RTCPeerConnections keep flowing. When the socket is back the server may know us, and the others, under
// new peer ids (a restarted server knows nobody until they join again). People are matched by their
// user id — one seat per person per meeting, so it names one connection — and a working connection is
// kept under the new id instead of being negotiated again. Both ends must agree on keeping it: the side
// that kept it says `{resume: true}` in a `signal` frame; the other side, if it no longer has that
// connection, answers `{reset: true}`, and the connection is made afresh (the one that kept it offers).

// existing: [{peerId, userId, alive}], listed: the welcome's `peers` ({peer_id, user: {id}}).
// → keep: [{from, info}] (a live connection to someone listed, now known as info.peer_id);
//   add: [info] (listed, no live connection: offer a new one); dropped: [peerId] (a dead connection
//   to someone listed, to close); waiting: [peerId] (not listed: maybe rejoining too; kept while alive).
export function matchWelcome(existing, listed) {
  const byUser = new Map();
  for (const e of existing) if (e.userId) byUser.set(e.userId, e);
  const keep = [];
  const add = [];
  const dropped = [];
  const used = new Set();
  for (const info of listed) {
    if (!info || !info.peer_id) continue;
    const userId = info.user && info.user.id;
    const mine = (userId && byUser.get(userId)) || existing.find((e) => e.peerId === info.peer_id);
    if (mine && !used.has(mine.peerId)) {
      used.add(mine.peerId);
      if (mine.alive) {
        keep.push({ from: mine.peerId, info });
        continue;
      }
      dropped.push(mine.peerId);
    }
    add.push(info);
  }
  const waiting = existing.filter((e) => !used.has(e.peerId)).map((e) => e.peerId);
  return { keep, add, dropped, waiting };
}

// My connection to someone who just joined (`peer-joined` info) under another id — the same person back
// on the channel — or null: {peerId, alive}. A live one is kept until they say whether they kept theirs
// (an offer instead means they start afresh); a dead one is closed and a new one made.
export function matchJoined(existing, info) {
  const userId = info && info.user && info.user.id;
  if (!userId) return null;
  return existing.find((e) => e.userId === userId && e.peerId !== info.peer_id) || null;
}

// Whether an RTCPeerConnection in this state can still carry the call.
export function connectionAlive(state) {
  return state !== "failed" && state !== "closed";
}
