// What the call says to screen readers (a polite live region, both providers): who joined or left,
// and when the connection drops and comes back. Pure: the views keep `previous` and render the words.

// previous, now: {people: Map(id -> name) | null, status: "joined" | "reconnecting" | other}.
// `people` null: not in the call yet (the people already there when I join are not news).
export function announcements(previous, now) {
  const said = [];
  if (previous.people && now.people) {
    for (const [id, name] of now.people) if (!previous.people.has(id)) said.push(`${name} joined`);
    for (const [id, name] of previous.people) if (!now.people.has(id)) said.push(`${name} left`);
  }
  if (now.status !== previous.status) {
    if (now.status === "reconnecting") said.push("Reconnecting…");
    else if (now.status === "joined" && previous.status === "reconnecting") said.push("Reconnected");
  }
  return said;
}

// Kept for screen readers, not drawn.
export const VISUALLY_HIDDEN = {
  position: "absolute",
  width: "1px",
  height: "1px",
  overflow: "hidden",
  clip: "rect(0 0 0 0)",
  whiteSpace: "nowrap",
};

// The last few, each with its own key, so a repeated sentence ("Ada joined" twice) is announced again.
export function appendAnnouncements(list, said, nextId) {
  return [...list, ...said.map((text, i) => ({ id: nextId + i, text }))].slice(-5);
}
