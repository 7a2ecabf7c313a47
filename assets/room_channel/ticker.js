// The heartbeat's clock.
//
// Browsers throttle the timers of a hidden tab (Chrome: to once a minute after 5 minutes), which
// would miss the server's 10 s heartbeat and drop whoever switches tabs during a meeting. A
// dedicated worker's timers are not throttled that way, so the ticks come from a tiny worker made
// from a Blob URL; where a worker can't be made (or fails to load), a plain setInterval does.
const TICKER_SOURCE =
  "let t = null; onmessage = (e) => { clearInterval(t); t = null; " +
  "if (e.data && e.data.ms > 0) t = setInterval(() => postMessage(0), e.data.ms); };";

export class Ticker {
  constructor(ms, onTick) {
    this.ms = ms;
    this.onTick = onTick;
    this.worker = null;
    this.url = null;
    this.timer = null;
    this.stopped = false;
    this.kind = "timer"; // read by the browser tests: "worker" unless the fallback runs
    try {
      this.url = URL.createObjectURL(new Blob([TICKER_SOURCE], { type: "text/javascript" }));
      const worker = new Worker(this.url);
      worker.onmessage = () => {
        if (!this.stopped) this.onTick();
      };
      worker.onerror = (e) => {
        if (e && e.preventDefault) e.preventDefault();
        this.fallBack(); // e.g. a Content-Security-Policy without blob: workers
      };
      worker.postMessage({ ms });
      this.worker = worker;
      this.kind = "worker";
    } catch (_err) {
      this.fallBack();
    }
  }

  fallBack() {
    this.releaseWorker();
    if (this.stopped || this.timer !== null) return;
    this.kind = "timer";
    this.timer = setInterval(() => this.onTick(), this.ms);
  }

  releaseWorker() {
    if (this.worker) {
      this.worker.onmessage = this.worker.onerror = null;
      this.worker.terminate();
      this.worker = null;
    }
    if (this.url) {
      URL.revokeObjectURL(this.url);
      this.url = null;
    }
  }

  stop() {
    this.stopped = true;
    this.releaseWorker();
    clearInterval(this.timer);
    this.timer = null;
  }
}
