// The coordinator: one MeshEngine per mounted LocalCall wires my media (LocalMedia), the signaling
// socket (SignalingClient), one Peer per other person and the host's recorder, and hands React an
// immutable-enough snapshot through subscribe()/snapshot(). Python hears about it through the
// LocalCall props' event triggers (`callbacks().onJoined(…)` and so on).
import { tokenURL } from "../yoom_token.js";
import { iceConfig, iceRenewDelayMs, readProtocol, senderLimits, wsUrl } from "./helpers.js";
import { canShareScreen, LocalMedia } from "./media.js";
import { loudestPeer, Peer } from "./peer.js";
import { canRecord, MeetingRecorder, recordingErrorMessage } from "./recorder.js";
import { RoomChannelClient } from "../room_channel/client.js";
import { registerRoom, RoomModel } from "../room_channel/room.js";
import { InCallNote } from "./in_call_note.js";
import { matchJoined, matchWelcome } from "./rejoin.js";
import { mark } from "./timeline.js";

const SPEAKER_POLL_MS = 400;
// Recordings are held in memory until uploaded, and the server refuses files over its limit: stop
// in time and save what was recorded. The token route tells the real limit (YOOM_RECORDING_MAX_MB);
// this is the fallback. Either way, 10% is kept spare.
const RECORD_MAX_BYTES = 500 * 1024 * 1024;
const OVER = ["left", "ended", "failed"];
// `peer-left` reasons that say a socket dropped, not that the person left: their connection stays while it
// lives, this long at most, in case they are on their way back (a network blip, a server deploy — whose
// shutdown drops every socket); when they rejoin it is kept under their new id (rejoin.js).
const AWAY_REASONS = ["disconnected", "timeout"];
const AWAY_GRACE_MS = 30000;

export class MeshEngine {
  // backend: the backend's URL (Reflex's getBackendURL()); protocol: yoom.rtc.protocol.client_protocol().
  constructor({ callId, backend, tokenUrl, wsUrl: wsRoute, protocol, startWithMicOff, startWithCameraOff, callbacks }) {
    this.callId = callId;
    this.callbacks = callbacks; // () => the latest props (event triggers)
    this.protocol = readProtocol(protocol);
    this.inCallNote = new InCallNote(this.protocol.inCallKey, callId);
    this.recordingsUrl = new URL("/api/recordings", backend).toString();
    this.status = "idle"; // idle | connecting | joined | reconnecting | left | ended | failed
    this.destroyed = false;
    this.peers = new Map(); // peer_id -> Peer
    this.pcs = new Map(); // peer_id -> RTCPeerConnection (window.__yoomPeers, for tests and benchmarks)
    this.me = null; // {peerId, user, isOwner}
    this.iceServers = []; // the welcome's (static) list; iceConfig prefers the token's
    this.speakerTimer = null;
    this.iceTimer = null;
    this.activeSpeaker = null;
    this.recordingBy = null; // peer id of whoever records (everyone sees the indicator)
    this.recorder = null;
    this.recordingBusy = false;
    this.recordingProgress = null; // {sent, total} bytes of the parts uploaded so far
    this.lastCount = -1;
    this.listeners = new Set();
    this.version = 0;
    mark("engine");
    this.media = new LocalMedia({
      micOn: !startWithMicOff,
      camOn: !startWithCameraOff,
      onChange: () => this.emit(),
      onTrack: (kind) => this.replaceOutgoing(kind),
      onAnnounce: () => this.sendMedia(),
      onNotice: (message) => this.fire("onRoomNotice", { for: "device", message }),
    });
    // Chat, hands, reactions and app messages ride the same socket as the signaling (room.js).
    this.room = new RoomModel({
      callbacks: () => ({
        onChat: (messages) => this.fire("onChat", messages),
        onHands: (hands) => this.fire("onHands", hands),
        onRoomMessage: (message) => this.fire("onRoomMessage", message),
        onNotice: (notice) => this.fire("onRoomNotice", notice),
        onMuteRequest: () => this.media.setMic(false),
        onChange: () => this.emit(),
      }),
    });
    this.room.send = (frame) => this.signaling.send(frame);
    this.unregisterRoom = registerRoom(this.room, {
      toggleMic: () => this.media.setMic(!this.media.micOn),
      toggleCamera: () => this.media.setCamera(!this.media.camOn),
    });
    this.media.ready.then(() => mark("media-ready"));
    this.signaling = new RoomChannelClient({
      callId,
      mark,
      tokenUrl: tokenURL(backend, tokenUrl),
      wsBase: wsUrl(wsRoute, backend),
      protocol: this.protocol,
      handlers: {
        onFrame: (msg) => this.onFrame(msg),
        onReconnecting: () => this.onReconnecting(),
        onEnded: () => this.end(),
        onFailed: (message) => this.fail(message),
      },
    });
  }

  // --- state for React ---------------------------------------------------------------------

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit() {
    if (this.destroyed) return;
    this.version += 1;
    for (const fn of this.listeners) fn(this.version);
  }

  snapshot() {
    const m = this.media;
    return {
      version: this.version,
      status: this.status,
      me: this.me,
      micOn: m.sendingAudio,
      camOn: m.sendingCamera,
      wantMic: m.micOn,
      wantCam: m.camOn,
      screenOn: m.screenOn,
      localStream: m.stream,
      peers: [...this.peers.values()].map((p) => p.snapshot()),
      activeSpeaker: this.activeSpeaker,
      devices: m.devices,
      selected: m.selected,
      deviceError: m.error,
      recordingBy: this.recordingBy,
      recording: !!this.recorder,
      recordingBusy: this.recordingBusy,
      recordingProgress: this.recordingProgress,
      canShareScreen: canShareScreen(),
      hands: this.room.handPositions(),
      myHandRaised: this.room.myHandRaised(),
      reactions: this.room.liveReactions(),
    };
  }

  fire(name, ...args) {
    const cb = this.callbacks()[name];
    if (typeof cb !== "function") return;
    try {
      cb(...args);
    } catch (err) {
      console.error(`[yoom] ${name} handler failed`, err);
    }
  }

  // --- my media (the views call this.media's setMic, setCamera, selectDevice, setScreenShare) -

  localTracks() {
    return { audio: this.media.audioTrack, video: this.media.videoTrack() };
  }

  replaceOutgoing(kind) {
    const track = this.localTracks()[kind];
    for (const peer of this.peers.values()) peer.replaceTrack(kind, track);
  }

  sendMedia() {
    const m = this.media;
    this.signaling.send({ type: "media", audio: m.sendingAudio, video: m.sendingCamera, screen: m.screenOn });
  }

  // --- the call ----------------------------------------------------------------------------

  async join() {
    if (this.destroyed || this.status !== "idle") return;
    this.status = "connecting";
    window.__yoomJoinRequestedAt = performance.now();
    mark("join");
    this.emit();
    await this.media.ready;
    if (this.destroyed) return;
    this.signaling.start();
  }

  onFrame(msg) {
    if (this.room.onFrame(msg)) return; // chat, hands, reactions, app messages
    switch (msg.type) {
      case "welcome":
        return this.onWelcome(msg);
      case "peer-joined":
        if (msg.peer && msg.peer.peer_id && !this.peers.has(msg.peer.peer_id)) {
          this.onPeerJoined(msg.peer);
          this.emit();
          this.countChanged();
        }
        return;
      case "peer-left":
        if (this.peers.has(msg.peer_id)) {
          const peer = this.peers.get(msg.peer_id);
          if (AWAY_REASONS.includes(msg.reason) && peer.alive) {
            this.markAway(peer);
            return;
          }
          this.closePeer(msg.peer_id);
          if (this.recordingBy === msg.peer_id) this.recordingBy = null;
          this.emit();
          this.countChanged();
        }
        return;
      case "signal":
        return this.onSignal(msg.from, msg.data || {});
      case "media": {
        const p = this.peers.get(msg.peer_id);
        if (p) {
          p.audio = !!msg.audio;
          p.video = !!msg.video;
          p.screen = !!msg.screen;
          this.emit();
        }
        return;
      }
      case "recording":
        if (msg.active) this.recordingBy = msg.peer_id;
        else if (this.recordingBy === msg.peer_id) this.recordingBy = null;
        this.emit();
        return;
      case "call-ended":
        return this.end();
      default:
        return;
    }
  }

  onWelcome(msg) {
    mark("welcome", (msg.peers || []).length);
    const rejoined = this.status === "reconnecting";
    this.me = { peerId: msg.peer_id, user: msg.user || {}, isOwner: !!msg.is_owner };
    this.iceServers = msg.ice_servers;
    this.status = "joined";
    window.__yoomPeers = this.pcs;
    window.__yoomCall = this; // for tests and benchmarks (e.g. dropping the socket)
    this.sendMedia();
    this.inCallNote.set(true);
    if (this.recorder) this.signaling.send({ type: "recording", active: true });
    const listed = (Array.isArray(msg.peers) ? msg.peers : []).filter((p) => p && p.peer_id);
    if (rejoined) this.resumePeers(listed);
    else for (const p of listed) this.addPeer(p, true);
    this.startSpeakerPoll();
    this.keepIceFresh();
    this.emit();
    this.fire("onJoined");
    this.lastCount = -1; // Python hears the count again: after a restart its state may have started afresh
    this.countChanged();
  }

  // The signaling socket is away: the peer connections are not (media is peer-to-peer). They stay until
  // the server says someone left or a connection itself fails; the welcome that comes back sorts them.
  onReconnecting() {
    if (this.status !== "joined" && this.status !== "reconnecting") {
      this.closeAllPeers();
    }
    for (const peer of this.peers.values()) peer.markAway(0);
    this.status = "reconnecting";
    this.emit();
    this.countChanged();
  }

  peerEntries() {
    return [...this.peers.values()].map((p) => ({ peerId: p.peerId, userId: p.user && p.user.id, alive: p.alive }));
  }

  // Back on the channel (rejoin.js): keep the live connections to the people listed, under their new ids,
  // and tell them so; offer to the others; the unlisted stay while their connection does (they may be on
  // their way back too) and go when it fails or the server says they left.
  resumePeers(listed) {
    const { keep, add, dropped, waiting } = matchWelcome(this.peerEntries(), listed);
    for (const id of dropped) this.closePeer(id);
    for (const { from, info } of keep) {
      this.renamePeer(from, info).markBack();
      this.signaling.send({ type: "signal", to: info.peer_id, data: { resume: true } });
    }
    for (const info of add) this.addPeer(info, true);
    for (const id of waiting) this.markAway(this.peers.get(id));
  }

  markAway(peer) {
    peer.markAway(AWAY_GRACE_MS, () => {
      if (this.peers.get(peer.peerId) !== peer || !peer.unconfirmed) return;
      this.closePeer(peer.peerId);
      if (this.recordingBy === peer.peerId) this.recordingBy = null;
      this.emit();
      this.countChanged();
    });
  }

  // Someone joined. The same person under another id (they rejoined): keep the live connection until
  // they say whether they kept theirs.
  onPeerJoined(info) {
    const mine = matchJoined(this.peerEntries(), info);
    if (mine && mine.alive) {
      const peer = this.renamePeer(mine.peerId, info);
      peer.markBack();
      peer.awaitingResume = true;
      return;
    }
    if (mine) this.closePeer(mine.peerId);
    this.addPeer(info, false);
  }

  renamePeer(from, info) {
    const peer = this.peers.get(from);
    this.peers.delete(from);
    this.pcs.delete(from);
    peer.learn(info);
    this.peers.set(peer.peerId, peer);
    this.pcs.set(peer.peerId, peer.pc);
    if (this.activeSpeaker === from) this.activeSpeaker = peer.peerId;
    if (this.recordingBy === from) this.recordingBy = peer.peerId;
    return peer;
  }

  // Their connection failed or closed. One to someone the server hasn't listed since the socket came
  // back is gone for good (nobody is there to restart it with); the others restart ICE (peer.js).
  onPeerFailed(peer) {
    if (this.peers.get(peer.peerId) !== peer) return;
    if (!peer.unconfirmed && peer.pc.connectionState !== "closed") return;
    this.closePeer(peer.peerId);
    this.emit();
    this.countChanged();
  }

  addPeer(info, initiator) {
    const peer = new Peer({
      info,
      initiator,
      ...iceConfig(this.signaling.token, this.iceServers),
      localTracks: () => this.localTracks(),
      // To whatever id they have now (a rejoin renames them).
      send: (data) => this.signaling.send({ type: "signal", to: peer.peerId, data }),
      onChange: () => this.emit(),
      onConnected: () => this.tuneSenders(),
    });
    peer.onFailed = () => this.onPeerFailed(peer);
    this.peers.set(peer.peerId, peer);
    this.pcs.set(peer.peerId, peer.pc);
    return peer;
  }

  onSignal(from, data) {
    let peer = this.peers.get(from);
    if (data.resume) {
      // They kept our connection through a rejoin: so do I, if I still have it; else we start afresh.
      if (peer && peer.alive && peer.awaitingResume) {
        peer.awaitingResume = false;
        peer.markBack();
      } else {
        this.signaling.send({ type: "signal", to: from, data: { reset: true } });
      }
      return;
    }
    if (data.reset) {
      // They no longer have the connection I kept: I offer a new one (also if mine failed meanwhile).
      const member = this.room.members.get(from);
      if (!peer && !member) return;
      const info = peer
        ? { peer_id: peer.peerId, user: peer.user, audio: peer.audio, video: peer.video, screen: peer.screen }
        : { peer_id: from, user: member.user };
      this.closePeer(from);
      this.addPeer(info, true);
      this.emit();
      this.countChanged();
      return;
    }
    if (peer && peer.awaitingResume && data.sdp && data.sdp.type === "offer") {
      // They came back without our connection (a reload, another device): theirs is a new one.
      const info = { peer_id: peer.peerId, user: peer.user, audio: peer.audio, video: peer.video, screen: peer.screen };
      this.closePeer(from);
      peer = this.addPeer(info, false);
      this.emit();
    }
    if (!peer) {
      // An offer from someone the welcome didn't list yet (their peer-joined is on its way).
      if (!(data.sdp && data.sdp.type === "offer")) return;
      peer = this.addPeer({ peer_id: from, user: { id: "", name: "Guest" } }, false);
      this.emit();
      this.countChanged();
    }
    peer.handleSignal(data);
  }

  closePeer(peerId) {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.peers.delete(peerId);
    this.pcs.delete(peerId);
    peer.close();
    if (this.activeSpeaker === peerId) this.activeSpeaker = null;
  }

  closeAllPeers() {
    for (const id of [...this.peers.keys()]) this.closePeer(id);
  }

  tuneSenders() {
    const limits = senderLimits(this.peers.size);
    for (const peer of this.peers.values()) peer.tune(limits);
  }

  countChanged() {
    this.tuneSenders();
    const inCall = this.status === "joined" || this.status === "reconnecting";
    const count = inCall ? this.peers.size + 1 : 0;
    if (count !== this.lastCount) {
      this.lastCount = count;
      this.fire("onParticipantsChange", count);
    }
  }

  // Short-lived TURN credentials come with the token: renew it before they lapse, so that a connection
  // to someone who joins later can still relay (connections already up keep their allocations).
  keepIceFresh() {
    clearTimeout(this.iceTimer);
    const delay = iceRenewDelayMs(this.signaling.token, Date.now());
    if (delay === null) return;
    this.iceTimer = setTimeout(() => {
      const again = () => {
        if (this.destroyed || OVER.includes(this.status)) return;
        // Connections that are up keep their allocations; an ICE restart of one gathers with these.
        const { iceServers } = iceConfig(this.signaling.token, this.iceServers);
        for (const pc of this.pcs.values()) {
          try {
            pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
          } catch (err) {
            console.warn("[yoom] new ICE servers", err);
          }
        }
        this.keepIceFresh();
      };
      // On failure the old credentials' delay is the minimum: it tries again soon.
      this.signaling.getToken(true).then(again, again);
    }, delay);
  }

  startSpeakerPoll() {
    clearInterval(this.speakerTimer);
    this.speakerTimer = setInterval(() => {
      let changed = false;
      for (const peer of this.peers.values()) if (peer.measureSpeaking()) changed = true;
      const loudest = loudestPeer(this.peers.values());
      if (loudest && loudest !== this.activeSpeaker) {
        this.activeSpeaker = loudest;
        changed = true;
      }
      if (changed) this.emit();
    }, SPEAKER_POLL_MS);
  }

  // --- recording (the host's browser records the meeting, then uploads it) -----------------

  recordTiles() {
    const video = this.media.videoTrack();
    const tiles = [{ key: "me", name: (this.me && this.me.user && this.me.user.name) || "You", track: video, on: !!video }];
    for (const p of this.peers.values()) {
      const track = p.stream.getVideoTracks()[0] || null;
      tiles.push({ key: p.peerId, name: (p.user && p.user.name) || "Guest", track, on: !!track && (p.video || p.screen) });
    }
    return tiles;
  }

  recordAudioTracks() {
    const tracks = this.media.audioTrack ? [this.media.audioTrack] : [];
    for (const p of this.peers.values()) tracks.push(...p.stream.getAudioTracks());
    return tracks;
  }

  startRecording() {
    if (this.recorder || this.recordingBusy || this.status !== "joined") return;
    if (!canRecord()) return this.fire("onRecordingError", "This browser can't record meetings.");
    const told = (this.signaling.token || {}).recording_max_bytes;
    const limit = Number.isFinite(told) && told > 0 ? told : RECORD_MAX_BYTES;
    let recorder;
    try {
      recorder = new MeetingRecorder({
        tiles: () => this.recordTiles(),
        audioTracks: () => this.recordAudioTracks(),
        maxBytes: Math.floor(limit * 0.9),
        onFull: () => {
          if (this.recorder !== recorder) return;
          this.fire("onRecordingError", "The recording reached its size limit and was stopped. It is being saved.");
          this.stopRecording();
        },
        upload: {
          base: this.recordingsUrl,
          callId: this.callId,
          onProgress: (progress) => {
            this.recordingProgress = progress;
            if (this.recordingBusy) this.emit();
          },
        },
      });
      // The server refused a part (the quota, say): stop; saving says why (onRecordingError).
      recorder.onUploadFailed = () => {
        if (this.recorder === recorder) this.stopRecording();
      };
    } catch (err) {
      return this.fire("onRecordingError", recordingErrorMessage(err, "Recording couldn't start in this browser."));
    }
    this.recorder = recorder;
    this.recordingBy = this.me && this.me.peerId;
    this.signaling.send({ type: "recording", active: true });
    this.emit();
  }

  async stopRecording() {
    const recorder = this.recorder;
    if (!recorder) return;
    this.recorder = null;
    this.recordingBusy = true;
    if (this.me && this.recordingBy === this.me.peerId) this.recordingBy = null;
    this.signaling.send({ type: "recording", active: false });
    this.emit();
    try {
      await recorder.finish(this.recordingsUrl, this.callId);
      this.fire("onRecordingSaved");
    } catch (err) {
      this.fire("onRecordingError", recordingErrorMessage(err, "The recording couldn't be saved."));
    } finally {
      this.recordingBusy = false;
      this.recordingProgress = null;
      this.emit();
    }
  }

  // --- ending ------------------------------------------------------------------------------

  stopNetwork() {
    clearInterval(this.speakerTimer);
    clearTimeout(this.iceTimer);
    this.signaling.stop();
    this.closeAllPeers();
    this.inCallNote.set(false);
  }

  finish(status) {
    if (this.recorder) this.stopRecording(); // upload what was recorded
    this.status = status;
    this.stopNetwork();
    this.media.stop();
    this.emit();
    this.countChanged();
  }

  end() {
    if (this.destroyed || OVER.includes(this.status)) return;
    this.finish("ended");
    this.fire("onCallEnded");
  }

  fail(message) {
    if (this.destroyed || OVER.includes(this.status)) return;
    this.finish("failed");
    this.fire("onError", message || this.protocol.lostConnection);
  }

  async leave() {
    if (this.destroyed || OVER.includes(this.status)) return;
    const pending = this.recorder ? this.stopRecording() : null;
    this.finish("left");
    if (pending) await pending;
    this.fire("onLeft");
  }

  destroy() {
    if (this.destroyed) return;
    if (this.recorder) this.stopRecording();
    this.stopNetwork();
    this.media.destroy();
    this.unregisterRoom();
    this.destroyed = true;
    this.status = this.status === "idle" ? "idle" : "left";
    this.listeners.clear();
    if (window.__yoomPeers === this.pcs) window.__yoomPeers = new Map();
    if (window.__yoomCall === this) window.__yoomCall = null;
  }
}
