// The page's own note that it is in a call: the call id in sessionStorage under the protocol's `inCallKey`
// (yoom/rtc/protocol.py IN_CALL_KEY) while the engine is joined. Reflex sends it with every hydrate, so when
// its socket comes back after a server restart, RoomState.load_room keeps the page in the call instead of
// sending it back to setup. Leaving, or the page going away (`pagehide`: a reload, a navigation), takes it
// back, so a reloaded or new page starts from setup. No DOM beyond the storage and the page's events.
function pageStorage() {
  try {
    return globalThis.sessionStorage || null;
  } catch (_err) {
    return null; // reading it throws where storage is blocked
  }
}

export class InCallNote {
  constructor(key, callId, storage = pageStorage(), page = globalThis.window) {
    this.key = key;
    this.callId = callId;
    this.storage = storage;
    this.page = page;
    this.onPageHide = null;
  }

  set(on) {
    if (!this.key || !this.storage) return;
    try {
      if (on) this.storage.setItem(this.key, this.callId);
      else if (this.storage.getItem(this.key) === this.callId) this.storage.removeItem(this.key);
    } catch (_err) {
      // storage blocked: after a server restart the page shows setup
    }
    if (!this.page) return;
    if (on && !this.onPageHide) {
      this.onPageHide = () => this.set(false);
      this.page.addEventListener("pagehide", this.onPageHide);
    } else if (!on && this.onPageHide) {
      this.page.removeEventListener("pagehide", this.onPageHide);
      this.onPageHide = null;
    }
  }
}
