// The meeting's keyboard shortcuts, the same on both providers: which key does what, and never while
// someone types (a text field, a select, anything contenteditable) or holds Ctrl, Alt or Meta (the
// browser's and the system's own shortcuts). Pure, so tests/js runs it; the bridges listen with it.

export const SHORTCUTS = [
  { key: "M", action: "mic", label: "Mute or unmute your microphone" },
  { key: "V", action: "camera", label: "Turn your camera on or off" },
  { key: "H", action: "hand", label: "Raise or lower your hand" },
  { key: "C", action: "chat", label: "Open or close the chat" },
  { key: "P", action: "participants", label: "Show or hide the participants" },
  { key: "?", action: "help", label: "Show these shortcuts" },
];

const BY_KEY = Object.fromEntries(SHORTCUTS.map((s) => [s.key.toLowerCase(), s.action]));
const TYPING_TAGS = new Set(["INPUT", "TEXTAREA", "SELECT"]);

// Whether the event comes from somewhere a person types.
export function isTyping(target) {
  for (let el = target; el; el = el.parentElement) {
    if (TYPING_TAGS.has(el.tagName)) return true;
    if (el.isContentEditable || (el.getAttribute && ["", "true", "plaintext-only"].includes(el.getAttribute("contenteditable"))))
      return true;
    if (el.getAttribute && el.getAttribute("role") === "textbox") return true;
  }
  return false;
}

// The action of a keydown, or null.
export function shortcutFor(event) {
  if (!event || event.defaultPrevented || event.repeat || event.isComposing) return null;
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (isTyping(event.target)) return null;
  const key = typeof event.key === "string" ? event.key.toLowerCase() : "";
  return BY_KEY[key] || null;
}

// Calls `onAction(action)` for each shortcut pressed on `target` (the document); returns the unsubscribe.
export function listenForShortcuts(target, onAction) {
  const handler = (event) => {
    const action = shortcutFor(event);
    if (!action) return;
    event.preventDefault();
    onAction(action);
  };
  target.addEventListener("keydown", handler);
  return () => target.removeEventListener("keydown", handler);
}
