// Joining the room channel again without dropping the call (assets/local_meeting/rejoin.js): which peer
// connections are kept under new ids, which are made afresh.
import { describe, expect, test } from "bun:test";
import { connectionAlive, matchJoined, matchWelcome } from "../../assets/local_meeting/rejoin.js";

const listed = (peerId, userId) => ({ peer_id: peerId, user: { id: userId, name: userId } });

describe("matchWelcome", () => {
  test("a restarted server: the same people under new ids keep their live connections", () => {
    const existing = [
      { peerId: "old-a", userId: "ada", alive: true },
      { peerId: "old-bo", userId: "bo", alive: true },
    ];
    const { keep, add, dropped, waiting } = matchWelcome(existing, [listed("new-a", "ada")]);
    expect(keep).toEqual([{ from: "old-a", info: listed("new-a", "ada") }]);
    expect(add).toEqual([]);
    expect(dropped).toEqual([]);
    // Bo isn't back yet: kept while the connection lives (Bo may be rejoining too).
    expect(waiting).toEqual(["old-bo"]);
  });

  test("someone new since, or whose connection died, gets a new one; the dead one is closed", () => {
    const existing = [{ peerId: "old-a", userId: "ada", alive: false }];
    const { keep, add, dropped, waiting } = matchWelcome(existing, [listed("new-a", "ada"), listed("p-cy", "cy")]);
    expect(keep).toEqual([]);
    expect(add).toEqual([listed("new-a", "ada"), listed("p-cy", "cy")]);
    expect(dropped).toEqual(["old-a"]);
    expect(waiting).toEqual([]);
  });

  test("only my socket dropped: the others keep their ids, and are matched by them too", () => {
    const existing = [{ peerId: "p-a", userId: "", alive: true }];
    expect(matchWelcome(existing, [listed("p-a", "")]).keep).toEqual([{ from: "p-a", info: listed("p-a", "") }]);
  });

  test("one connection per person, whatever the roster repeats; entries without an id are ignored", () => {
    const existing = [{ peerId: "old-a", userId: "ada", alive: true }];
    const { keep, add } = matchWelcome(existing, [listed("n1", "ada"), listed("n2", "ada"), { user: { id: "x" } }, null]);
    expect(keep.map((k) => k.info.peer_id)).toEqual(["n1"]);
    expect(add.map((a) => a.peer_id)).toEqual(["n2"]);
  });
});

describe("matchJoined", () => {
  const existing = [
    { peerId: "old-a", userId: "ada", alive: true },
    { peerId: "old-bo", userId: "bo", alive: false },
  ];

  test("the same person back under a new id: my connection to them", () => {
    expect(matchJoined(existing, listed("new-a", "ada"))).toEqual(existing[0]);
    expect(matchJoined(existing, listed("new-bo", "bo"))).toEqual(existing[1]); // dead: the engine closes it
  });

  test("someone new, an unknown person, or the very same id: none", () => {
    expect(matchJoined(existing, listed("p-cy", "cy"))).toBeNull();
    expect(matchJoined(existing, { peer_id: "p-x", user: {} })).toBeNull();
    expect(matchJoined(existing, listed("old-a", "ada"))).toBeNull();
    expect(matchJoined(existing, null)).toBeNull();
  });
});

test("a connection can carry the call until it failed or closed", () => {
  for (const state of ["new", "connecting", "connected", "disconnected"]) expect(connectionAlive(state)).toBe(true);
  for (const state of ["failed", "closed"]) expect(connectionAlive(state)).toBe(false);
});
