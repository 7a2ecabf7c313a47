// One RTCPeerConnection to one other person, in the manner of simple-peer's Peer.
//
// Whoever joins later offers (`initiator`) with two fixed transceivers, audio and video, kept for the
// whole call: mute, camera and screen share swap tracks with replaceTrack, so nothing is renegotiated
// and there is no glare to resolve. Offers, answers and candidates go through one promise chain, in
// the order they came; a failed connection is restarted (ICE restart) by the side that offered.
import { connectionAlive } from "./rejoin.js";
import { mark } from "./timeline.js";

const SPEAKING_LEVEL = 0.04;

export class Peer {
  // localTracks() → {audio, video}: what I send now. send(data): a `signal` frame's data to this peer.
  // onChange(): something to show changed. onConnected(): media flows (time to tune the senders).
  constructor({ info, initiator, iceServers, iceTransportPolicy, localTracks, send, onChange, onConnected }) {
    this.peerId = info.peer_id;
    this.user = info.user || { id: "", name: "Guest" };
    this.audio = !!info.audio;
    this.video = !!info.video;
    this.screen = !!info.screen;
    this.initiator = initiator;
    // Set by the engine: the connection itself failed or closed (not just the signaling socket).
    this.onFailed = () => {};
    // Kept across a rejoin (rejoin.js): until the other side confirms (`resume`) or starts afresh (an offer).
    this.awaitingResume = false;
    // Not (yet) in the roster the server gave since the signaling socket came back, or announced gone
    // by a dropped socket (which a server going down for a deploy does too): kept while it lives.
    this.unconfirmed = false;
    this.awayTimer = null;
    this.localTracks = localTracks;
    this.sendSignal = send;
    this.onChange = onChange;
    this.stream = new MediaStream();
    this.speaking = false;
    this.level = 0;
    this.closed = false;
    this.sendersReady = initiator;
    this.chain = Promise.resolve();
    const pc = (this.pc = new RTCPeerConnection({
      iceServers,
      iceTransportPolicy: iceTransportPolicy || "all",
      bundlePolicy: "max-bundle",
    }));
    pc.onicecandidate = (e) => {
      if (e.candidate) this.sendSignal({ candidate: e.candidate.toJSON() });
    };
    pc.ontrack = (e) => {
      mark("track", e.track.kind);
      const others = this.stream.getTracks().filter((t) => t.kind !== e.track.kind);
      this.stream = new MediaStream([...others, e.track]);
      this.onChange();
    };
    pc.onconnectionstatechange = () => {
      mark("pc-" + pc.connectionState, this.peerId);
      if (pc.connectionState === "connected") onConnected();
      if (pc.connectionState === "failed" && this.initiator && !this.closed && !this.unconfirmed) {
        this.enqueue(() => this.makeOffer(true), "ICE restart");
      }
      this.onChange();
      if (!connectionAlive(pc.connectionState) && !this.closed) this.onFailed();
    };
    if (initiator) {
      const { audio, video } = localTracks();
      pc.addTransceiver(audio || "audio", { direction: "sendrecv" });
      pc.addTransceiver(video || "video", { direction: "sendrecv" });
      this.enqueue(() => this.makeOffer(false), "offer");
    }
  }

  // Who they are now: they came back under a new peer id (a `peer-joined` or welcome entry).
  learn(info) {
    this.peerId = info.peer_id;
    this.user = info.user || { id: "", name: "Guest" };
    this.audio = !!info.audio;
    this.video = !!info.video;
    this.screen = !!info.screen;
  }

  // Away (see `unconfirmed`): gone unless back within `ms` (0: no deadline).
  markAway(ms, onGone) {
    this.unconfirmed = true;
    clearTimeout(this.awayTimer);
    this.awayTimer = ms ? setTimeout(onGone, ms) : null;
  }

  markBack() {
    this.unconfirmed = false;
    clearTimeout(this.awayTimer);
    this.awayTimer = null;
  }

  get alive() {
    return !this.closed && connectionAlive(this.pc.connectionState);
  }

  enqueue(step, what) {
    this.chain = this.chain.then(step).catch((err) => console.warn(`[yoom] ${what}`, err));
  }

  // What the views show of this person.
  snapshot() {
    const { peerId, user, audio, video, screen, stream, speaking } = this;
    return { peerId, user, audio, video, screen, stream, speaking, connection: this.pc.connectionState };
  }

  async makeOffer(iceRestart) {
    if (this.closed) return;
    const pc = this.pc;
    await pc.setLocalDescription(await pc.createOffer(iceRestart ? { iceRestart: true } : undefined));
    mark("offer-sent", this.peerId);
    this.sendSignal({ sdp: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
  }

  // The answering side sends on the transceivers the offer made.
  async attachSenders() {
    const { audio, video } = this.localTracks();
    const jobs = [];
    for (const t of this.pc.getTransceivers()) {
      t.direction = "sendrecv";
      jobs.push(t.sender.replaceTrack(t.receiver.track.kind === "audio" ? audio : video));
    }
    await Promise.all(jobs);
    this.sendersReady = true;
  }

  // A `signal` frame's data from this peer: {sdp} or {candidate}.
  handleSignal(data) {
    const pc = this.pc;
    this.enqueue(async () => {
      if (this.closed) return;
      if (data.sdp && typeof data.sdp.sdp === "string") {
        if (data.sdp.type === "offer") {
          if (pc.signalingState !== "stable") {
            if (this.initiator) return; // only our side offers to this peer: ignore theirs
            await pc.setLocalDescription({ type: "rollback" });
          }
          mark("offer-received", this.peerId);
          await pc.setRemoteDescription(data.sdp);
          if (!this.sendersReady) await this.attachSenders();
          await pc.setLocalDescription(await pc.createAnswer());
          this.sendSignal({ sdp: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
        } else if (data.sdp.type === "answer") {
          mark("answer-received", this.peerId);
          if (pc.signalingState === "have-local-offer") await pc.setRemoteDescription(data.sdp);
        }
      } else if (data.candidate && typeof data.candidate === "object") {
        try {
          await pc.addIceCandidate(data.candidate);
        } catch (err) {
          console.warn("[yoom] ICE candidate", err);
        }
      }
    }, "signal");
  }

  transceiversOf(kind) {
    return this.pc
      .getTransceivers()
      .filter((t) => !t.stopped && t.receiver && t.receiver.track && t.receiver.track.kind === kind);
  }

  replaceTrack(kind, track) {
    for (const t of this.transceiversOf(kind)) {
      if (t.sender.track === track) continue;
      t.sender.replaceTrack(track).catch((err) => console.warn("[yoom] replaceTrack", err));
    }
  }

  // Bitrate and frame-rate caps on my video to this peer (see senderLimits).
  tune(limits) {
    for (const t of this.transceiversOf("video")) {
      const params = t.sender.getParameters();
      if (!params.encodings || !params.encodings.length) continue; // not negotiated yet
      const e = params.encodings[0];
      if (e.maxBitrate === limits.maxBitrate && e.maxFramerate === limits.maxFramerate) continue;
      e.maxBitrate = limits.maxBitrate;
      e.maxFramerate = limits.maxFramerate;
      t.sender.setParameters(params).catch((err) => console.warn("[yoom] setParameters", err));
    }
  }

  // How loud they are now (0–1); updates `speaking`, returns whether it changed.
  measureSpeaking() {
    let level = 0;
    for (const r of this.pc.getReceivers()) {
      if (r.track && r.track.kind === "audio" && r.getSynchronizationSources) {
        for (const s of r.getSynchronizationSources()) level = Math.max(level, s.audioLevel || 0);
      }
    }
    this.level = level;
    const speaking = this.audio && level > SPEAKING_LEVEL;
    const changed = speaking !== this.speaking;
    this.speaking = speaking;
    return changed;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.awayTimer);
    try {
      this.pc.close();
    } catch (_err) {
      // already closed
    }
  }
}

// Who speaks loudest now, of those speaking (measured by measureSpeaking); null when nobody does.
export function loudestPeer(peers) {
  let loudest = null;
  for (const peer of peers) {
    if (peer.speaking && (!loudest || peer.level > loudest.level)) loudest = peer;
  }
  return loudest && loudest.peerId;
}
