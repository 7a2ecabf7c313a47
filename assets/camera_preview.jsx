// <CameraPreview>: your own camera, before any video service is involved — the Stream setup screen of
// someone who must ask to join (Stream opens the call only once they are let in). Wrapped by
// yoom/components/camera_preview.py. The camera is released when `off` turns on and when it unmounts
// (the Stream bridge takes the camera over once the person is in).
import React, { useEffect, useRef, useState } from "react";
import { mediaErrorMessage } from "./local_meeting/helpers.js";

export function CameraPreview({ off = false, ...rest }) {
  const video = useRef(null);
  const [problem, setProblem] = useState("");
  useEffect(() => {
    if (off) return undefined;
    let stream = null;
    let live = true;
    setProblem("");
    if (!navigator.mediaDevices?.getUserMedia) {
      setProblem("This browser can't show your camera.");
      return undefined;
    }
    navigator.mediaDevices
      .getUserMedia({ video: true, audio: false })
      .then((s) => {
        if (!live) return s.getTracks().forEach((t) => t.stop());
        stream = s;
        if (!video.current) return;
        video.current.srcObject = s;
        // `autoPlay` alone doesn't start a stream set after mount here: start it (muted, so allowed).
        video.current.play().catch(() => {});
      })
      .catch((err) => live && setProblem(mediaErrorMessage(err, "camera")));
    return () => {
      live = false;
      if (stream) stream.getTracks().forEach((t) => t.stop());
      if (video.current) video.current.srcObject = null;
    };
  }, [off]);
  const words = off ? "Your camera is off." : problem;
  return (
    <div {...rest}>
      {words ? (
        <p role="status">{words}</p>
      ) : (
        <video
          ref={video}
          autoPlay
          playsInline
          muted
          aria-label="Your camera"
          data-testid="camera-preview-video"
          style={{ width: "100%", aspectRatio: "16 / 9", objectFit: "cover", borderRadius: 8, background: "#000" }}
        />
      )}
    </div>
  );
}
