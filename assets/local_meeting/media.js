// My camera, microphone and screen: the tracks, the device lists, switching devices, screen sharing.
//
// Tells the engine through four callbacks: onChange() (something to show changed), onTrack(kind)
// (the track to send of that kind is another one: swap it on every connection, with replaceTrack, so
// the others keep seeing and hearing me), onAnnounce() (my mic/camera/screen state changed: tell the
// others), and onNotice(words) (a device went away and another took its place, or none could).
import { mediaErrorMessage } from "./helpers.js";

function hasMediaDevices() {
  return typeof navigator !== "undefined" && !!navigator.mediaDevices && !!navigator.mediaDevices.getUserMedia;
}

// Whether this browser can choose where sound plays (HTMLMediaElement.setSinkId: Chromium, Firefox 116+).
export function canPickSpeaker() {
  return typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
}

const KIND_WORDS = { audioinput: "microphone", videoinput: "camera", audiooutput: "speaker" };

export function canShareScreen() {
  return typeof navigator !== "undefined" && !!navigator.mediaDevices && !!navigator.mediaDevices.getDisplayMedia;
}

const stopAll = (stream) => stream.getTracks().forEach((t) => t.stop());

export class LocalMedia {
  constructor({ micOn, camOn, onChange, onTrack, onAnnounce, onNotice = () => {} }) {
    this.micOn = micOn;
    this.camOn = camOn;
    this.screenOn = false;
    this.audioTrack = null;
    this.camTrack = null;
    this.screenTrack = null;
    this.stream = new MediaStream(); // what my own tile and the preview show
    this.devices = { audioinput: [], videoinput: [], audiooutput: [] };
    this.selected = { audioinput: "", videoinput: "", audiooutput: "" };
    this.error = "";
    this.destroyed = false;
    this.onNotice = onNotice;
    this.onChange = onChange;
    this.onTrack = onTrack;
    this.onAnnounce = onAnnounce;
    this.onDeviceChange = () => this.refreshDevices();
    this.ready = this.open();
  }

  // What I send: the mic's state and the video track (the screen wins over the camera).
  get sendingAudio() {
    return this.micOn && !!this.audioTrack;
  }

  get sendingCamera() {
    return this.camOn && !!this.camTrack;
  }

  videoTrack() {
    if (this.screenTrack) return this.screenTrack;
    return this.camOn ? this.camTrack : null;
  }

  audioConstraints() {
    const c = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    if (this.selected.audioinput) c.deviceId = { exact: this.selected.audioinput };
    return c;
  }

  videoConstraints() {
    const c = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };
    if (this.selected.videoinput) c.deviceId = { exact: this.selected.videoinput };
    return c;
  }

  async open() {
    if (!hasMediaDevices()) {
      this.error = "This browser can't use a camera or microphone here (it needs https or localhost).";
      this.onChange();
      return;
    }
    navigator.mediaDevices.addEventListener("devicechange", this.onDeviceChange);
    const errors = [];
    let stream = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: this.audioConstraints(),
        video: this.camOn ? this.videoConstraints() : false,
      });
    } catch (_err) {
      // Ask for each separately: a missing camera must not cost the microphone.
      const parts = [];
      try {
        parts.push(await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() }));
      } catch (err) {
        errors.push(mediaErrorMessage(err, "microphone"));
      }
      if (this.camOn) {
        try {
          parts.push(await navigator.mediaDevices.getUserMedia({ video: this.videoConstraints() }));
        } catch (err) {
          errors.push(mediaErrorMessage(err, "camera"));
          this.camOn = false;
        }
      }
      stream = new MediaStream(parts.flatMap((s) => s.getTracks()));
    }
    if (this.destroyed) return stopAll(stream);
    this.audioTrack = stream.getAudioTracks()[0] || null;
    this.camTrack = stream.getVideoTracks()[0] || null;
    if (this.audioTrack) {
      this.audioTrack.enabled = this.micOn;
      this.selected.audioinput = this.audioTrack.getSettings().deviceId || "";
      this.watchMic(this.audioTrack);
    }
    if (this.camTrack) {
      this.selected.videoinput = this.camTrack.getSettings().deviceId || "";
      this.watchCamera(this.camTrack);
    }
    this.error = errors.join(" ");
    this.updateStream();
    await this.refreshDevices();
  }

  // A camera unplugged or taken over ends its track: another one takes over if there is one, else the
  // camera goes off, and either way the person is told.
  watchCamera(track) {
    track.addEventListener("ended", () => {
      if (this.destroyed || this.camTrack !== track) return;
      this.camTrack = null;
      this.updateStream();
      this.onTrack("video");
      this.refreshDevices();
    });
  }

  watchMic(track) {
    track.addEventListener("ended", () => {
      if (this.destroyed || this.audioTrack !== track) return;
      this.audioTrack = null;
      this.onTrack("audio");
      this.refreshDevices();
    });
  }

  async refreshDevices() {
    if (!hasMediaDevices() || this.destroyed) return;
    try {
      const all = await navigator.mediaDevices.enumerateDevices();
      const pick = (kind) =>
        all
          .filter((d) => d.kind === kind && d.deviceId)
          .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `${KIND_WORDS[kind]} ${i + 1}` }));
      this.devices = { audioinput: pick("audioinput"), videoinput: pick("videoinput"), audiooutput: pick("audiooutput") };
    } catch (_err) {
      this.devices = { audioinput: [], videoinput: [], audiooutput: [] };
    }
    this.onChange();
    await this.fallBack();
  }

  // A device in use went away (devicechange, or its track ended): the first remaining one of that kind
  // takes its place, and the person reads which.
  async fallBack() {
    const gone = (kind) => {
      const chosen = this.selected[kind];
      return !!chosen && !this.devices[kind].some((d) => d.deviceId === chosen);
    };
    const other = (kind) => this.devices[kind].find((d) => d.deviceId === "default") || this.devices[kind][0];
    if (gone("audiooutput")) {
      this.selected = { ...this.selected, audiooutput: "" };
      this.onNotice("Your speaker was disconnected. Sound plays on the default speaker.");
      this.onChange();
    }
    for (const kind of ["audioinput", "videoinput"]) {
      const using = kind === "audioinput" ? this.audioTrack : this.camTrack;
      const wanted = kind === "audioinput" ? this.micOn : this.camOn;
      const lost = (using && gone(kind)) || (!using && wanted && this.selected[kind] && gone(kind));
      if (!lost) continue;
      const next = other(kind);
      const what = KIND_WORDS[kind];
      if (!next) {
        this.selected = { ...this.selected, [kind]: "" };
        if (kind === "videoinput") await this.setCamera(false);
        else await this.setMic(false);
        this.onNotice(`Your ${what} was disconnected, and there is no other one.`);
        continue;
      }
      this.selected = { ...this.selected, [kind]: "" };
      await this.selectDevice(kind, next.deviceId, { force: true });
      this.onNotice(`Your ${what} was disconnected. Switched to ${next.label}.`);
    }
  }

  updateStream() {
    const track = this.videoTrack();
    this.stream = new MediaStream(track ? [track] : []);
    this.onChange();
  }

  async setMic(on) {
    await this.ready;
    if (this.destroyed) return;
    this.micOn = !!on;
    if (this.micOn && !this.audioTrack) {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() });
        if (this.destroyed) return stopAll(s);
        this.audioTrack = s.getAudioTracks()[0] || null;
        if (this.audioTrack) this.watchMic(this.audioTrack);
        this.error = "";
        this.onTrack("audio");
      } catch (err) {
        this.micOn = false;
        this.error = mediaErrorMessage(err, "microphone");
      }
    }
    if (this.audioTrack) this.audioTrack.enabled = this.micOn;
    this.onAnnounce();
    this.onChange();
  }

  async setCamera(on) {
    await this.ready;
    if (this.destroyed) return;
    if (!on) {
      this.camOn = false;
      if (this.camTrack) {
        this.camTrack.stop(); // the camera light goes off
        this.camTrack = null;
      }
    } else if (!this.camTrack) {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ video: this.videoConstraints() });
        if (this.destroyed) return stopAll(s);
        this.camTrack = s.getVideoTracks()[0] || null;
        if (this.camTrack) this.watchCamera(this.camTrack);
        this.camOn = !!this.camTrack;
        this.error = "";
        if (!this.selected.videoinput && this.camTrack) {
          this.selected.videoinput = this.camTrack.getSettings().deviceId || "";
        }
        this.refreshDevices();
      } catch (err) {
        this.camOn = false;
        this.error = mediaErrorMessage(err, "camera");
      }
    } else {
      this.camOn = true;
    }
    this.updateStream();
    this.onTrack("video");
    this.onAnnounce();
  }

  // Switch a device, in a call too: the new track replaces the old on every connection (replaceTrack),
  // so the others keep seeing and hearing me. "audiooutput" only changes where the others' sound plays.
  async selectDevice(kind, deviceId, { force = false } = {}) {
    await this.ready;
    if (this.destroyed || (!deviceId && kind !== "audiooutput")) return;
    if (!force && this.selected[kind] === deviceId) return;
    this.selected = { ...this.selected, [kind]: deviceId };
    try {
      if (kind === "audioinput") {
        const s = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() });
        if (this.destroyed) return stopAll(s);
        const old = this.audioTrack;
        this.audioTrack = s.getAudioTracks()[0] || null;
        if (this.audioTrack) {
          this.audioTrack.enabled = this.micOn;
          this.watchMic(this.audioTrack);
        }
        this.onTrack("audio");
        if (old) old.stop();
      } else if (kind === "videoinput" && (this.camOn || force)) {
        const old = this.camTrack;
        this.camTrack = null;
        if (old) old.stop(); // some cameras can't be opened twice
        const s = await navigator.mediaDevices.getUserMedia({ video: this.videoConstraints() });
        if (this.destroyed) return stopAll(s);
        this.camTrack = s.getVideoTracks()[0] || null;
        if (this.camTrack) {
          this.watchCamera(this.camTrack);
          this.camOn = true;
        }
        this.updateStream();
        this.onTrack("video");
        this.onAnnounce();
      }
      this.error = "";
    } catch (err) {
      this.error = mediaErrorMessage(err, KIND_WORDS[kind]);
    }
    this.onChange();
  }

  async setScreenShare(on) {
    if (this.destroyed) return;
    if (!on) {
      if (this.screenTrack) {
        const t = this.screenTrack;
        this.screenTrack = null;
        t.stop();
      }
      this.screenOn = false;
    } else {
      if (this.screenTrack) return;
      if (!canShareScreen()) {
        this.error = "This browser can't share its screen.";
        this.onChange();
        return;
      }
      let s;
      try {
        s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
      } catch (err) {
        if (err && err.name !== "NotAllowedError" && err.name !== "AbortError") {
          this.error = "Screen sharing couldn't start.";
          this.onChange();
        }
        return; // the person cancelled the picker
      }
      if (this.destroyed) return stopAll(s);
      this.screenTrack = s.getVideoTracks()[0] || null;
      if (!this.screenTrack) return;
      if ("contentHint" in this.screenTrack) this.screenTrack.contentHint = "detail";
      this.screenTrack.addEventListener("ended", () => {
        if (this.screenTrack) this.setScreenShare(false); // "Stop sharing" in the browser's bar
      });
      this.screenOn = true;
    }
    this.updateStream();
    this.onTrack("video");
    this.onAnnounce();
  }

  // The camera light goes off and the tracks end; the object stays usable for reading.
  stop() {
    for (const t of [this.audioTrack, this.camTrack, this.screenTrack]) if (t) t.stop();
    this.audioTrack = this.camTrack = this.screenTrack = null;
    this.stream = new MediaStream();
  }

  destroy() {
    this.stop();
    this.destroyed = true;
    if (hasMediaDevices()) navigator.mediaDevices.removeEventListener("devicechange", this.onDeviceChange);
  }
}
