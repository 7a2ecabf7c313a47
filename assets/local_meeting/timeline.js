// The call's milestones (join, welcome, offer, connected, first frame) on `window.__yoomTimeline`,
// read by the browser tests and benchmarks/ to measure join-to-first-frame.
export function mark(name, detail) {
  if (typeof window === "undefined") return;
  const list = (window.__yoomTimeline = window.__yoomTimeline || []);
  if (list.length < 500) list.push({ name, detail, t: performance.now() });
}

// `window.__yoomFirstRemoteFrameAt`: when the first frame from anyone else was painted.
export function markFirstRemoteFrame() {
  if (window.__yoomFirstRemoteFrameAt == null) window.__yoomFirstRemoteFrameAt = performance.now();
  mark("first-frame");
}
