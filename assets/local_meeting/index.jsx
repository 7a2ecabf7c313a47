// Yoom's built-in meetings: a peer-to-peer WebRTC mesh signalled over Yoom's own WebSocket
// (docs/rtc-protocol.md), wrapped for Reflex by yoom/components/local_video.py.
//
// The entry module, and the only one that knows Reflex: it gives the engine the backend's URL
// (`$/utils/state`) and brings in the stylesheet. The modules it imports run under `bun test`.
import React from "react";
import { getBackendURL } from "$/utils/state";
import { LocalCall as Call } from "./call.jsx";
import "./local_meeting.css";

function backendURL() {
  try {
    return getBackendURL();
  } catch (_err) {
    return new URL(window.location.href);
  }
}

export function LocalCall(props) {
  return <Call {...props} backend={backendURL} />;
}

export {
  LocalCallAnnouncer,
  LocalCallControls,
  LocalDeviceSettings,
  LocalParticipantsList,
  LocalParticipantsView,
  LocalVideoPreview,
} from "./views.jsx";

export default LocalCall;
