// Toasts ("Link copied", "Recording saved") without sonner in any page's download: sonner loads on the
// first toast (a few kB, on the same server), and calls made before it arrives wait for it. Reflex's
// rx.toast events call refs["__toast"] (reflex_components_sonner), which this sets. Wrapped by
// yoom/components/toaster.py as the app's toaster.
import React, { useEffect, useState } from "react";
import { refs } from "$/utils/state";

const METHODS = ["success", "error", "info", "warning", "loading", "message", "dismiss", "promise", "custom"];
let sonner = null;
let loading = null;
let ready = false; // the Toaster is mounted: toasts show
let onLoaded = null;
const waiting = [];

function load() {
  loading ||= import("sonner").then((module) => {
    sonner = module;
    onLoaded?.(module);
    return module;
  });
  return loading;
}

function call(method, args) {
  if (ready) return method ? sonner.toast[method](...args) : sonner.toast(...args);
  waiting.push([method, args]);
  load();
  return undefined;
}

const toast = Object.assign((...args) => call(null, args), Object.fromEntries(METHODS.map((m) => [m, (...args) => call(m, args)])));

export function LazyToaster(props) {
  const [module, setModule] = useState(sonner);
  useEffect(() => {
    onLoaded = setModule;
    refs.__toast = toast;
    return () => {
      onLoaded = null;
    };
  }, []);
  useEffect(() => {
    if (!module) return;
    ready = true; // the Toaster below has mounted (children's effects run first)
    for (const [method, args] of waiting.splice(0)) call(method, args);
  }, [module]);
  return module ? <module.Toaster {...props} /> : null;
}
