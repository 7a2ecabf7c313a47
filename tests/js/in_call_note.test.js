// The page's note that it is in a call (assets/local_meeting/in_call_note.js), which keeps it in the call
// when Reflex's socket comes back after a server restart.
import { expect, test } from "bun:test";
import { InCallNote } from "../../assets/local_meeting/in_call_note.js";

function fakeStorage() {
  const items = new Map();
  return {
    items,
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => items.set(k, String(v)),
    removeItem: (k) => items.delete(k),
  };
}

test("joined: the call id is noted; leaving takes it back", () => {
  const storage = fakeStorage();
  const page = new EventTarget();
  const note = new InCallNote("yoom_in_call", "call-1", storage, page);
  note.set(true);
  expect(storage.getItem("yoom_in_call")).toBe("call-1");
  note.set(true); // a rejoin's welcome: still one note, one listener
  note.set(false);
  expect(storage.getItem("yoom_in_call")).toBeNull();
});

test("the page going away (a reload, a navigation) takes the note back, so the next page starts at setup", () => {
  const storage = fakeStorage();
  const page = new EventTarget();
  new InCallNote("yoom_in_call", "call-1", storage, page).set(true);
  page.dispatchEvent(new Event("pagehide"));
  expect(storage.getItem("yoom_in_call")).toBeNull();
});

test("leaving one call leaves another call's note alone; no key or blocked storage is no note", () => {
  const storage = fakeStorage();
  new InCallNote("yoom_in_call", "call-2", storage, new EventTarget()).set(true);
  new InCallNote("yoom_in_call", "call-1", storage, new EventTarget()).set(false);
  expect(storage.getItem("yoom_in_call")).toBe("call-2");
  new InCallNote("", "call-1", storage, null).set(true);
  expect(storage.getItem("yoom_in_call")).toBe("call-2");
  const blocked = {
    getItem: () => {
      throw new Error("SecurityError");
    },
    setItem: () => {
      throw new Error("SecurityError");
    },
  };
  expect(() => new InCallNote("yoom_in_call", "call-1", blocked, new EventTarget()).set(true)).not.toThrow();
});
