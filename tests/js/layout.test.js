// Tile layout math (assets/local_meeting/layout.js), shared by the views and the recorder's canvas.
import { describe, expect, test } from "bun:test";
import { arrangement, containRect, gridCells, gridShape, speakerSplit, tilesOf } from "../../assets/local_meeting/layout.js";

describe("gridShape", () => {
  test.each([
    [1, 1, 1],
    [2, 2, 1],
    [3, 2, 2],
    [4, 2, 2],
    [5, 3, 2],
    [6, 3, 2],
    [7, 3, 3],
    [9, 3, 3],
    [10, 4, 3],
  ])("%i tiles → %i columns × %i rows", (count, cols, rows) => {
    expect(gridShape(count)).toEqual({ cols, rows });
  });

  test("every tile has a cell and no row is empty", () => {
    for (let n = 1; n <= 36; n++) {
      const { cols, rows } = gridShape(n);
      expect(cols * rows).toBeGreaterThanOrEqual(n);
      expect(cols * (rows - 1)).toBeLessThan(n);
    }
  });
});

describe("gridCells", () => {
  test("cells fill the canvas with equal gaps and never overlap", () => {
    const cells = gridCells(3, 1280, 720, 8);
    expect(cells).toEqual([
      { x: 8, y: 8, w: 628, h: 348 },
      { x: 644, y: 8, w: 628, h: 348 },
      { x: 8, y: 364, w: 628, h: 348 },
    ]);
    const right = cells[1].x + cells[1].w;
    const bottom = cells[2].y + cells[2].h;
    expect([right, bottom]).toEqual([1280 - 8, 720 - 8]);
  });

  test("one person gets the whole canvas less the margin", () => {
    expect(gridCells(1, 1280, 720, 8)).toEqual([{ x: 8, y: 8, w: 1264, h: 704 }]);
  });
});

test("containRect fits a picture inside a cell, centred, proportions kept", () => {
  expect(containRect(640, 360, { x: 0, y: 0, w: 320, h: 320 })).toEqual({ x: 0, y: 70, w: 320, h: 180 });
  expect(containRect(360, 640, { x: 10, y: 10, w: 320, h: 320 })).toEqual({ x: 80, y: 10, w: 180, h: 320 });
});

const SNAP = {
  me: { peerId: "p0", user: { name: "Ada" } },
  localStream: "my-stream",
  camOn: true,
  screenOn: false,
  micOn: false,
  peers: [
    { peerId: "p1", user: { name: "Bo" }, stream: "s1", audio: true, video: false, screen: false, speaking: true },
    { peerId: "p2", user: {}, stream: "s2", audio: false, video: false, screen: true, speaking: false },
  ],
};

describe("tilesOf", () => {
  test("me first, mirrored unless I share my screen, then the others in order", () => {
    const tiles = tilesOf(SNAP);
    expect(tiles.map((t) => [t.key, t.name, t.isLocal])).toEqual([
      ["me", "Ada", true],
      ["p1", "Bo", false],
      ["p2", "Guest", false],
    ]);
    expect(tiles[0]).toMatchObject({ peerId: "p0", stream: "my-stream", videoOn: true, audioOn: false, mirrored: true });
    expect(tiles[1]).toMatchObject({ videoOn: false, audioOn: true, speaking: true, mirrored: false });
    expect(tiles[2]).toMatchObject({ videoOn: true, screen: true });
    expect(tilesOf({ ...SNAP, screenOn: true, camOn: false })[0]).toMatchObject({ videoOn: true, mirrored: false });
  });

  test("before the welcome I am 'You'", () => {
    expect(tilesOf({ ...SNAP, me: null, peers: [] })).toMatchObject([{ key: "me", peerId: "me", name: "You" }]);
  });
});

describe("speakerSplit", () => {
  const tiles = tilesOf(SNAP);

  test("a screen share takes the big tile over the active speaker", () => {
    const { main, rest } = speakerSplit(tiles, "p1");
    expect(main.key).toBe("p2");
    expect(rest.map((t) => t.key)).toEqual(["me", "p1"]);
  });

  test("else whoever spoke last, else the first other person, else me", () => {
    const noScreen = tilesOf({ ...SNAP, peers: SNAP.peers.map((p) => ({ ...p, screen: false })) });
    expect(speakerSplit(noScreen, "p2").main.key).toBe("p2");
    expect(speakerSplit(noScreen, null).main.key).toBe("p1");
    expect(speakerSplit(tiles.slice(0, 1), null)).toEqual({ main: tiles[0], rest: [] });
  });
});

test("arrangement: the asked layout, except that one person alone is always a grid", () => {
  expect(arrangement("grid", 3)).toBe("grid");
  expect(arrangement("speaker-left", 3)).toBe("speaker-left");
  expect(arrangement("speaker-right", 2)).toBe("speaker-right");
  expect(arrangement("speaker-right", 1)).toBe("grid");
  expect(arrangement(undefined, 2)).toBe("speaker-left");
});
