// Keyboard shortcuts (assets/room_channel/shortcuts.js): the keys, and never while typing.
import { expect, test } from "bun:test";
import { isTyping, listenForShortcuts, SHORTCUTS, shortcutFor } from "../../assets/room_channel/shortcuts.js";

function element(tagName, attrs = {}, parent = null) {
  return {
    tagName,
    parentElement: parent,
    isContentEditable: attrs.contenteditable === "true",
    getAttribute: (name) => (name in attrs ? attrs[name] : null),
  };
}

const key = (k, target = element("DIV"), extra = {}) => ({ key: k, target, ...extra });

test("each key does its thing, in either case", () => {
  expect(SHORTCUTS.map((s) => s.key)).toEqual(["M", "V", "H", "C", "P", "?"]);
  expect(["m", "V", "h", "c", "P", "?"].map((k) => shortcutFor(key(k)))).toEqual([
    "mic",
    "camera",
    "hand",
    "chat",
    "participants",
    "help",
  ]);
  expect(shortcutFor(key("x"))).toBe(null);
});

test("nothing happens while typing or with a modifier", () => {
  const editor = element("DIV", { contenteditable: "true" });
  for (const target of [element("INPUT"), element("TEXTAREA"), element("SELECT"), editor, element("SPAN", {}, editor), element("DIV", { role: "textbox" })]) {
    expect(isTyping(target)).toBe(true);
    expect(shortcutFor(key("m", target))).toBe(null);
  }
  for (const extra of [{ ctrlKey: true }, { metaKey: true }, { altKey: true }, { repeat: true }, { isComposing: true }]) {
    expect(shortcutFor(key("m", element("DIV"), extra))).toBe(null);
  }
});

test("the listener calls back and keeps the key from doing anything else", () => {
  const handlers = {};
  const target = {
    addEventListener: (type, fn) => (handlers[type] = fn),
    removeEventListener: (type) => delete handlers[type],
  };
  const actions = [];
  const stop = listenForShortcuts(target, (a) => actions.push(a));
  let prevented = 0;
  handlers.keydown({ ...key("c"), preventDefault: () => (prevented += 1) });
  handlers.keydown({ ...key("c", element("INPUT")), preventDefault: () => (prevented += 1) });
  expect(actions).toEqual(["chat"]);
  expect(prevented).toBe(1);
  stop();
  expect(handlers.keydown).toBeUndefined();
});
