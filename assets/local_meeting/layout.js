// Where the tiles go: one per person, me first. Used by the views and by the recorder's canvas.
// Layout names are RoomState.layout's (yoom.meeting_rules.Layout, typed on the wrapper's `layout` prop).

export function gridShape(count) {
  const cols = Math.max(1, Math.ceil(Math.sqrt(count)));
  return { cols, rows: Math.max(1, Math.ceil(count / cols)) };
}

// Cells of a `cols` × `rows` grid filling width × height with `gap` around and between them.
export function gridCells(count, width, height, gap) {
  const { cols, rows } = gridShape(count);
  const w = (width - gap * (cols + 1)) / cols;
  const h = (height - gap * (rows + 1)) / rows;
  return Array.from({ length: count }, (_, i) => ({
    x: gap + (i % cols) * (w + gap),
    y: gap + Math.floor(i / cols) * (h + gap),
    w,
    h,
  }));
}

// A `width` × `height` picture scaled to fit inside `cell`, centred, proportions kept.
export function containRect(width, height, cell) {
  const scale = Math.min(cell.w / width, cell.h / height);
  const w = width * scale;
  const h = height * scale;
  return { x: cell.x + (cell.w - w) / 2, y: cell.y + (cell.h - h) / 2, w, h };
}

// The tiles of an engine snapshot: me first, then everyone else in the order they came.
export function tilesOf(snap) {
  const hands = snap.hands || {};
  const reactions = snap.reactions || {};
  const mine = snap.me ? snap.me.peerId : "me";
  const tiles = [
    {
      key: "me",
      peerId: snap.me ? snap.me.peerId : "me",
      name: (snap.me && snap.me.user && snap.me.user.name) || "You",
      stream: snap.localStream,
      videoOn: snap.camOn || snap.screenOn,
      audioOn: snap.micOn,
      isLocal: true,
      screen: snap.screenOn,
      speaking: false,
      mirrored: !snap.screenOn,
      hand: hands[mine] || 0,
      reactions: reactions[mine] || [],
    },
  ];
  for (const p of snap.peers) {
    tiles.push({
      key: p.peerId,
      peerId: p.peerId,
      name: (p.user && p.user.name) || "Guest",
      stream: p.stream,
      videoOn: p.video || p.screen,
      audioOn: p.audio,
      isLocal: false,
      screen: p.screen,
      speaking: p.speaking,
      mirrored: false,
      hand: hands[p.peerId] || 0,
      reactions: reactions[p.peerId] || [],
    });
  }
  return tiles;
}

// The speaker layouts' big tile: whoever shares a screen, else who spoke last, else the first other
// person (me when alone); everyone else goes in the bar.
export function speakerSplit(tiles, activeSpeaker) {
  const remote = tiles.filter((t) => !t.isLocal);
  const main =
    remote.find((t) => t.screen) || remote.find((t) => t.peerId === activeSpeaker) || remote[0] || tiles[0];
  return { main, rest: tiles.filter((t) => t !== main) };
}

// One tile needs no arrangement: alone, every layout is the grid.
export function arrangement(layout, count) {
  if (layout === "grid" || count === 1) return "grid";
  return layout === "speaker-right" ? "speaker-right" : "speaker-left";
}
