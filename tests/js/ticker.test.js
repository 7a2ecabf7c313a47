// The heartbeat's clock (assets/local_meeting/ticker.js): a Blob-URL worker's timer, or setInterval
// where no worker can run.
import { afterEach, expect, test } from "bun:test";
import { Ticker } from "../../assets/room_channel/ticker.js";

const real = { Worker: globalThis.Worker, setInterval: globalThis.setInterval, revoke: URL.revokeObjectURL };
let ticker = null;

afterEach(() => {
  if (ticker) ticker.stop();
  ticker = null;
  globalThis.Worker = real.Worker;
  globalThis.setInterval = real.setInterval;
  URL.revokeObjectURL = real.revoke;
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function counting() {
  const ticks = { n: 0 };
  ticks.onTick = () => {
    ticks.n += 1;
  };
  return ticks;
}

async function until(check, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(5);
  }
}

test("ticks come from a worker, and keep coming when the page's own timers stop", async () => {
  const ticks = counting();
  ticker = new Ticker(10, ticks.onTick);
  expect(ticker.kind).toBe("worker");
  await until(() => ticks.n >= 2);
  // What a hidden tab's throttling does at worst: the page's timers stop. The worker's don't.
  globalThis.setInterval = () => 0;
  const before = ticks.n;
  await until(() => ticks.n >= before + 3);
});

test("stop ends the ticks, terminates the worker and revokes its Blob URL", async () => {
  const revoked = [];
  URL.revokeObjectURL = (url) => {
    revoked.push(url);
    real.revoke.call(URL, url);
  };
  const ticks = counting();
  ticker = new Ticker(10, ticks.onTick);
  const url = ticker.url;
  expect(url).toStartWith("blob:");
  await until(() => ticks.n >= 1);
  ticker.stop();
  expect(ticker.worker).toBeNull();
  expect(revoked).toEqual([url]);
  const stoppedAt = ticks.n;
  await sleep(60);
  expect(ticks.n).toBe(stoppedAt);
});

test("without workers, a timer ticks instead", async () => {
  globalThis.Worker = function () {
    throw new Error("workers are disabled here");
  };
  const ticks = counting();
  ticker = new Ticker(10, ticks.onTick);
  expect(ticker.kind).toBe("timer");
  expect(ticker.worker).toBeNull();
  expect(ticker.url).toBeNull(); // the Blob URL made for the worker is let go
  await until(() => ticks.n >= 3);
  ticker.stop();
  const stoppedAt = ticks.n;
  await sleep(50);
  expect(ticks.n).toBe(stoppedAt);
});

test("a worker that fails to load (e.g. a CSP without blob: workers) falls back to a timer", async () => {
  const made = [];
  globalThis.Worker = class {
    constructor(url) {
      this.url = url;
      this.terminated = false;
      made.push(this);
    }
    postMessage() {
      setTimeout(() => this.onerror && this.onerror({ preventDefault() {} }), 5);
    }
    terminate() {
      this.terminated = true;
    }
  };
  const ticks = counting();
  ticker = new Ticker(10, ticks.onTick);
  expect(ticker.kind).toBe("worker");
  await until(() => ticker.kind === "timer");
  expect(made[0].terminated).toBe(true);
  await until(() => ticks.n >= 2);
});

test("a stopped ticker does not fall back later", async () => {
  let failLoad = null;
  globalThis.Worker = class {
    postMessage() {
      failLoad = () => this.onerror && this.onerror({});
    }
    terminate() {}
  };
  const ticks = counting();
  ticker = new Ticker(5, ticks.onTick);
  ticker.stop();
  if (failLoad) failLoad();
  await sleep(30);
  expect(ticker.timer).toBeNull();
  expect(ticks.n).toBe(0);
});
