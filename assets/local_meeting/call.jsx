// `LocalCall`: owns one MeshEngine for its call and shares it (with a fresh snapshot on every change)
// through context with the views inside it (views.jsx), which are composed in Python
// (yoom/components/local_room.py).
import React, { createContext, useContext, useEffect, useMemo, useRef, useState } from "react";
import { listenForShortcuts } from "../room_channel/shortcuts.js";
import { MeshEngine } from "./engine.js";

const LocalCallContext = createContext(null);

// {engine, snap} inside a LocalCall; null (or a null snap) before its engine exists.
export function useLocalCall() {
  return useContext(LocalCallContext);
}

// `backend()`: the backend's URL, given by the entry module (index.jsx), which knows Reflex.
export function LocalCall({
  backend,
  callId,
  tokenUrl,
  wsUrl,
  protocol,
  startWithMicOff = false,
  startWithCameraOff = false,
  joined = false,
  children,
  ...handlers
}) {
  const latest = useRef({});
  latest.current = handlers;
  const [engine, setEngine] = useState(null);
  const [, setVersion] = useState(0);

  // One engine per call; StrictMode's mount → unmount → mount makes a second one and
  // destroys the first, which stops its tracks and closes its socket.
  useEffect(() => {
    if (!callId) return undefined;
    const e = new MeshEngine({
      callId,
      backend: backend(),
      tokenUrl,
      wsUrl,
      protocol,
      startWithMicOff,
      startWithCameraOff,
      callbacks: () => latest.current,
    });
    const unsubscribe = e.subscribe((v) => setVersion(v));
    setEngine(e);
    return () => {
      unsubscribe();
      e.destroy();
      setEngine((current) => (current === e ? null : current));
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [callId, tokenUrl, wsUrl]);

  // Before joining, the setup screen's "join with mic and camera off" drives the preview
  // (the engine starts with the values it was created with; only changes are applied).
  const requested = useRef({ engine: null, mic: startWithMicOff, cam: startWithCameraOff });
  useEffect(() => {
    const r = requested.current;
    if (!engine) return;
    if (r.engine !== engine) {
      requested.current = { engine, mic: startWithMicOff, cam: startWithCameraOff };
      return;
    }
    if (engine.status !== "idle") return;
    if (r.mic !== startWithMicOff) engine.media.setMic(!startWithMicOff);
    if (r.cam !== startWithCameraOff) engine.media.setCamera(!startWithCameraOff);
    requested.current = { engine, mic: startWithMicOff, cam: startWithCameraOff };
  }, [engine, startWithMicOff, startWithCameraOff]);

  useEffect(() => {
    if (engine && joined) engine.join();
  }, [engine, joined]);

  // Keyboard shortcuts in the call (room_channel/shortcuts.js): mic, camera and hand here; chat,
  // participants and the list of shortcuts are Python's panels (onShortcut).
  useEffect(() => {
    if (!engine || !joined) return undefined;
    return listenForShortcuts(document, (action) => {
      if (action === "mic") engine.media.setMic(!engine.media.micOn);
      else if (action === "camera") engine.media.setCamera(!engine.media.camOn);
      else if (action === "hand") engine.room.toggleHand();
      else latest.current.onShortcut?.(action);
    });
  }, [engine, joined]);

  const snap = engine ? engine.snapshot() : null;
  const value = useMemo(() => ({ engine, snap }), [engine, snap && snap.version]); // eslint-disable-line react-hooks/exhaustive-deps
  return <LocalCallContext.Provider value={value}>{children}</LocalCallContext.Provider>;
}
