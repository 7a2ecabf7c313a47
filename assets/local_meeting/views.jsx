// The views of a LocalCall (call.jsx): everyone's video, the preview, device pickers, the controls and
// the participants list. They only read the engine's snapshot and call its methods.
import React, { useEffect, useRef, useState } from "react";
import { Circle, Mic, MicOff, PhoneOff, ScreenShare, ScreenShareOff, Square, Video, VideoOff } from "lucide-react";
import { useLocalCall } from "./call.jsx";
import { canPickSpeaker } from "./media.js";
import { initialsOf } from "./helpers.js";
import { arrangement, gridShape, speakerSplit, tilesOf } from "./layout.js";
import { markFirstRemoteFrame } from "./timeline.js";
import { announcements, appendAnnouncements, VISUALLY_HIDDEN } from "../room_channel/announce.js";

// "Saving the recording… 40%": the parts still on their way when recording stopped.
function savingText(progress) {
  if (!progress || !progress.total) return "Saving the recording…";
  return `Saving the recording… ${Math.min(100, Math.floor((100 * progress.sent) / progress.total))}%`;
}

const STATUS_TEXT = {
  idle: "Getting ready…",
  connecting: "Joining…",
  reconnecting: "Reconnecting…",
};

function Icon({ as: Glyph, size = 20, filled = false }) {
  return <Glyph size={size} fill={filled ? "currentColor" : "none"} aria-hidden="true" focusable="false" />;
}

function StreamVideo({ stream, muted = false, mirrored = false, testId, onFirstFrame, sinkId = "" }) {
  const ref = useRef(null);
  useEffect(() => {
    // Let go of the stream when the element goes: a removed <video> keeps its player (and the
    // camera's capture buffers) until garbage collection, which can stall the camera for seconds.
    const el = ref.current;
    return () => {
      if (!el) return;
      try {
        el.pause();
      } catch (_err) {
        // not playing
      }
      el.srcObject = null;
    };
  }, []);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    el.muted = muted;
    if (el.srcObject !== stream) el.srcObject = stream || null;
    let unmuteOnClick = null;
    if (stream) {
      const p = el.play();
      if (p && p.catch) {
        p.catch((err) => {
          if (err && err.name === "NotAllowedError" && !el.muted) {
            // Autoplay with sound was refused: show the video now, sound after the next click.
            el.muted = true;
            el.play().catch(() => {});
            unmuteOnClick = () => {
              el.muted = false;
            };
            document.addEventListener("click", unmuteOnClick, { once: true });
          }
        });
      }
      if (onFirstFrame && el.requestVideoFrameCallback) el.requestVideoFrameCallback(onFirstFrame);
    }
    return () => {
      if (unmuteOnClick) document.removeEventListener("click", unmuteOnClick);
    };
  }, [stream, muted, onFirstFrame]);
  useEffect(() => {
    // The speaker chosen in the device settings ("" = the system's default), where the browser can.
    const el = ref.current;
    if (!el || muted || !canPickSpeaker() || el.sinkId === sinkId) return;
    el.setSinkId(sinkId).catch((err) => console.warn("[yoom] setSinkId", err));
  }, [sinkId, muted]);
  return (
    <video
      ref={ref}
      autoPlay
      playsInline
      muted={muted}
      data-testid={testId}
      className={mirrored ? "yoom-lm-mirrored" : undefined}
    />
  );
}

// A raised hand (with its place in the queue) and the reactions floating over the tile.
function TileBadges({ name, hand, reactions }) {
  return (
    <>
      {hand > 0 && (
        <div className="yoom-lm-hand" data-testid="hand-raised" role="img" aria-label={`${name} raised their hand (${hand})`} title="Hand raised">
          <span aria-hidden="true">✋</span>
          <b>{hand}</b>
        </div>
      )}
      {reactions.length > 0 && (
        <div className="yoom-lm-reactions" aria-live="polite">
          {reactions.map((r) => (
            <span key={r.key} className="yoom-lm-reaction" data-testid="reaction" role="img" aria-label={`${name} reacted ${r.emoji}`}>
              {r.emoji}
            </span>
          ))}
        </div>
      )}
    </>
  );
}

function Tile({ name, stream, videoOn, audioOn, isLocal, screen, speaking, mirrored, hand = 0, reactions = [], sinkId = "" }) {
  const cls = ["yoom-lm-tile", screen ? "yoom-lm-screen" : "", speaking ? "yoom-lm-speaking" : ""].filter(Boolean).join(" ");
  return (
    <div className={cls} data-testid="participant-tile" data-participant-name={name} data-local={isLocal ? "true" : "false"}>
      <StreamVideo
        stream={stream}
        muted={isLocal}
        mirrored={mirrored}
        testId={isLocal ? "local-video" : "remote-video"}
        onFirstFrame={isLocal ? null : markFirstRemoteFrame}
        sinkId={sinkId}
      />
      <TileBadges name={name} hand={hand} reactions={reactions} />
      {!videoOn && (
        <div className="yoom-lm-avatar">
          <span>{initialsOf(name)}</span>
        </div>
      )}
      <div className="yoom-lm-label">
        {!audioOn && (
          <span className="yoom-lm-muted" data-testid="muted-indicator" role="img" aria-label={`${name} is muted`} title="Muted">
            <Icon as={MicOff} size={14} />
          </span>
        )}
        <b>{isLocal ? `${name} (You)` : name}</b>
      </div>
    </div>
  );
}

const tileList = (tiles, sinkId) => tiles.map(({ key, ...t }) => <Tile key={key} {...t} sinkId={sinkId} />);

// `layout`: RoomState.layout, one of yoom.meeting_rules.Layout's values (the wrapper's prop type).
export function LocalParticipantsView({ layout = "speaker-left" }) {
  const ctx = useLocalCall();
  if (!ctx || !ctx.snap) return null;
  const { snap } = ctx;
  const tiles = tilesOf(snap);
  const sinkId = snap.selected.audiooutput || "";
  const status = snap.recordingBusy ? savingText(snap.recordingProgress) : STATUS_TEXT[snap.status];
  const shown = arrangement(layout, tiles.length);
  let body;
  if (shown === "grid") {
    const { cols, rows } = gridShape(tiles.length);
    body = (
      <div className="yoom-lm-grid" style={{ "--cols": cols, "--rows": rows }} data-layout="grid">
        {tileList(tiles, sinkId)}
      </div>
    );
  } else {
    const { main, rest } = speakerSplit(tiles, snap.activeSpeaker);
    const { key: mainKey, ...mainProps } = main;
    body = (
      <div className={`yoom-lm-speakerlayout ${shown === "speaker-right" ? "yoom-lm-right" : ""}`} data-layout={shown}>
        <div className="yoom-lm-main">
          <Tile key={mainKey} {...mainProps} sinkId={sinkId} />
        </div>
        <div className="yoom-lm-bar">{tileList(rest, sinkId)}</div>
      </div>
    );
  }
  return (
    <div className="yoom-lm yoom-lm-view" data-call-status={snap.status}>
      {status && (
        <div className="yoom-lm-status" role="status" data-status={snap.status}>
          {status}
        </div>
      )}
      {snap.recordingBy && (
        <div className="yoom-lm-rec" data-testid="recording-indicator" role="status">
          <Icon as={Circle} size={10} filled /> REC
        </div>
      )}
      {body}
    </div>
  );
}

export function LocalVideoPreview() {
  const ctx = useLocalCall();
  if (!ctx || !ctx.snap) return null;
  const { snap } = ctx;
  return (
    <div className="yoom-lm">
      <div className="yoom-lm-preview" data-testid="video-preview">
        <StreamVideo stream={snap.localStream} muted mirrored testId="local-preview" />
        {!snap.camOn && (
          <div className="yoom-lm-avatar">
            <span className="yoom-lm-camera-off">Camera is off</span>
          </div>
        )}
        <div className="yoom-lm-label">
          {!snap.micOn && (
            <span className="yoom-lm-muted" role="img" aria-label="Microphone is off">
              <Icon as={MicOff} size={14} />
            </span>
          )}
          <b>Preview</b>
        </div>
      </div>
      {snap.deviceError && (
        <div className="yoom-lm-note" role="alert">
          {snap.deviceError}
        </div>
      )}
    </div>
  );
}

export function LocalDeviceSettings() {
  const ctx = useLocalCall();
  if (!ctx || !ctx.snap) return null;
  const { snap, engine } = ctx;
  const select = (kind, label, list) => (
    <label>
      {label}
      <select
        aria-label={label}
        value={snap.selected[kind] || ""}
        disabled={!list.length}
        onChange={(e) => engine.media.selectDevice(kind, e.target.value)}
      >
        {!list.length && <option value="">None found</option>}
        {list.map((d) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div className="yoom-lm yoom-lm-devices" data-testid="device-settings">
      {select("videoinput", "Camera", snap.devices.videoinput)}
      {select("audioinput", "Microphone", snap.devices.audioinput)}
      {canPickSpeaker() && snap.devices.audiooutput.length > 0 && select("audiooutput", "Speaker", snap.devices.audiooutput)}
    </div>
  );
}

function ControlButton({ label, testId, onClick, className = "", pressed, disabled = false, children }) {
  return (
    <button
      type="button"
      className={`yoom-lm-btn ${className}`}
      aria-label={label}
      title={label}
      aria-pressed={pressed}
      onClick={onClick}
      disabled={disabled}
      data-testid={testId}
    >
      {children}
    </button>
  );
}

export function LocalCallControls({ canRecord = false }) {
  const ctx = useLocalCall();
  if (!ctx || !ctx.snap) return null;
  const { snap, engine } = ctx;
  const inCall = snap.status === "joined";
  const { media } = engine;
  return (
    <div className="yoom-lm yoom-lm-controls" role="toolbar" aria-label="Call controls">
      <ControlButton
        label="Toggle microphone"
        testId="toggle-mic"
        onClick={() => media.setMic(!snap.wantMic)}
        className={snap.wantMic ? "" : "yoom-lm-off"}
        pressed={snap.wantMic}
      >
        <Icon as={snap.wantMic ? Mic : MicOff} />
      </ControlButton>
      <ControlButton
        label="Toggle camera"
        testId="toggle-camera"
        onClick={() => media.setCamera(!snap.wantCam)}
        className={snap.wantCam ? "" : "yoom-lm-off"}
        pressed={snap.wantCam}
      >
        <Icon as={snap.wantCam ? Video : VideoOff} />
      </ControlButton>
      {snap.canShareScreen && (
        <ControlButton
          label="Share screen"
          testId="share-screen"
          onClick={() => media.setScreenShare(!snap.screenOn)}
          className={snap.screenOn ? "yoom-lm-active" : ""}
          pressed={snap.screenOn}
          disabled={!inCall}
        >
          <Icon as={snap.screenOn ? ScreenShareOff : ScreenShare} />
        </ControlButton>
      )}
      {canRecord &&
        (snap.recording ? (
          <ControlButton
            label="Stop recording"
            testId="stop-recording"
            onClick={() => engine.stopRecording()}
            className="yoom-lm-off"
            pressed
          >
            <Icon as={Square} filled />
          </ControlButton>
        ) : (
          <ControlButton
            label="Start recording"
            testId="start-recording"
            onClick={() => engine.startRecording()}
            pressed={false}
            disabled={!inCall || snap.recordingBusy}
          >
            <span className="yoom-lm-recdot">
              <Icon as={Circle} size={18} filled />
            </span>
          </ControlButton>
        ))}
      <ControlButton label="Leave call" testId="leave-call" onClick={() => engine.leave()} className="yoom-lm-leave">
        <Icon as={PhoneOff} />
      </ControlButton>
    </div>
  );
}

export function LocalParticipantsList() {
  const ctx = useLocalCall();
  if (!ctx || !ctx.snap) return null;
  return (
    <ul className="yoom-lm yoom-lm-list" aria-label="Participants" data-testid="participants-list">
      {tilesOf(ctx.snap).map((t) => (
        <li key={t.key} data-testid="participant-row">
          <span className="yoom-lm-dot" aria-hidden="true">
            {initialsOf(t.name)}
          </span>
          <span className="yoom-lm-name">{t.isLocal ? `${t.name} (You)` : t.name}</span>
          {t.hand > 0 && (
            <span className="yoom-lm-hand-row" data-testid="participant-hand" role="img" aria-label={`Hand raised (${t.hand})`} title="Hand raised">
              ✋ {t.hand}
            </span>
          )}
          <span className="yoom-lm-icons">
            <span className={t.audioOn ? "" : "yoom-lm-off"} role="img" aria-label={t.audioOn ? "Microphone on" : "Muted"} title={t.audioOn ? "Microphone on" : "Muted"}>
              <Icon as={t.audioOn ? Mic : MicOff} size={16} />
            </span>
            <span className={t.videoOn ? "" : "yoom-lm-off"} role="img" aria-label={t.videoOn ? "Camera on" : "Camera off"} title={t.videoOn ? "Camera on" : "Camera off"}>
              <Icon as={t.videoOn ? Video : VideoOff} size={16} />
            </span>
          </span>
        </li>
      ))}
    </ul>
  );
}

// For screen readers: who joined or left, and "Reconnecting…" (room_channel/announce.js), out of sight.
export function LocalCallAnnouncer() {
  const call = useLocalCall();
  const snap = call && call.snap;
  const previous = useRef({ people: null, status: "" });
  const [messages, setMessages] = useState([]);
  useEffect(() => {
    if (!snap) return;
    const joined = snap.status === "joined";
    // By person, not peer id: someone whose connection was kept through a rejoin has a new peer id.
    const who = (p) => (p.user && p.user.id) || p.peerId;
    const people = joined ? new Map(snap.peers.map((p) => [who(p), (p.user && p.user.name) || "Someone"])) : null;
    const now = { people: people || previous.current.people, status: snap.status };
    const said = announcements(previous.current, { ...now, people });
    previous.current = now;
    if (said.length) setMessages((list) => appendAnnouncements(list, said, (list.at(-1)?.id || 0) + 1));
  }, [snap]);
  return (
    <div role="log" aria-live="polite" aria-relevant="additions" data-testid="call-announcements" style={VISUALLY_HIDDEN}>
      {messages.map((m) => (
        <p key={m.id}>{m.text}</p>
      ))}
    </div>
  );
}
