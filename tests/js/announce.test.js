// What the call says to screen readers (assets/room_channel/announce.js).
import { describe, expect, test } from "bun:test";
import { announcements, appendAnnouncements } from "../../assets/room_channel/announce.js";

const people = (...pairs) => new Map(pairs);

describe("announcements", () => {
  test("the people already there when I join are not news", () => {
    expect(announcements({ people: null, status: "connecting" }, { people: people(["a", "Ada"]), status: "joined" })).toEqual([]);
  });

  test("says who joined and who left, by name", () => {
    const before = { people: people(["a", "Ada"], ["b", "Bo"]), status: "joined" };
    const after = { people: people(["b", "Bo"], ["c", "Cy"]), status: "joined" };
    expect(announcements(before, after)).toEqual(["Cy joined", "Ada left"]);
  });

  test("says Reconnecting… when the connection drops, and Reconnected when it is back", () => {
    const joined = { people: people(["a", "Ada"]), status: "joined" };
    expect(announcements(joined, { people: null, status: "reconnecting" })).toEqual(["Reconnecting…"]);
    // Back, and someone left meanwhile: both are said.
    expect(announcements({ people: joined.people, status: "reconnecting" }, { people: people(), status: "joined" })).toEqual([
      "Ada left",
      "Reconnected",
    ]);
  });

  test("nothing changed: nothing said", () => {
    const joined = { people: people(["a", "Ada"]), status: "joined" };
    expect(announcements(joined, { people: people(["a", "Ada"]), status: "joined" })).toEqual([]);
  });
});

describe("appendAnnouncements", () => {
  test("keeps the last five, each with its own key, so a repeated sentence is announced again", () => {
    let list = [];
    for (let i = 0; i < 7; i++) list = appendAnnouncements(list, ["Ada joined"], (list.at(-1)?.id || 0) + 1);
    expect(list.map((m) => m.id)).toEqual([3, 4, 5, 6, 7]);
    expect(list.every((m) => m.text === "Ada joined")).toBe(true);
  });
});
