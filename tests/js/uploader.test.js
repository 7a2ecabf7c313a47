// Parts of a recording uploaded while it records (assets/local_meeting/uploader.js), against a stubbed
// server: in order, retried through a dropped network, resumed after a lost answer, refused with words.
import { expect, test } from "bun:test";
import { PartUploader } from "../../assets/local_meeting/uploader.js";

function fakeServer({ failFirstPutOf = new Set(), loseAnswerOf = new Set(), refuse = null } = {}) {
  const server = { parts: [], requests: [], completed: false };
  const reply = (status, body) => ({ status, ok: status < 300, json: async () => body });
  server.fetch = async (url, options) => {
    server.requests.push(`${options.method} ${url.split("?")[0]}`);
    if (url.includes("/uploads?")) return reply(201, { upload_id: "u1", next_part: 0 });
    const part = url.match(/parts\/(\d+)/);
    if (part) {
      const index = Number(part[1]);
      if (failFirstPutOf.has(index)) {
        failFirstPutOf.delete(index);
        throw new TypeError("Failed to fetch");
      }
      if (refuse && refuse.index === index) return reply(refuse.status, { error: refuse.error });
      if (index !== server.parts.length) return reply(409, { error: "out of order", next_part: server.parts.length });
      server.parts.push(await options.body.text());
      if (loseAnswerOf.has(index)) {
        loseAnswerOf.delete(index);
        throw new TypeError("the answer was lost");
      }
      return reply(200, { next_part: server.parts.length });
    }
    if (url.includes("/complete")) {
      server.completed = true;
      return reply(201, { id: "r1", url: "/api/recordings/r1" });
    }
    return reply(404, {});
  };
  return server;
}

function uploader(server, progress = []) {
  return new PartUploader({
    base: "http://yoom.test/api/recordings",
    callId: "call-1",
    startedAt: new Date("2026-01-01T10:00:00Z"),
    fetchImpl: server.fetch,
    sleep: async () => {},
    onlineTarget: null,
    onProgress: (p) => progress.push(p),
  });
}

const blob = (text) => new Blob([text], { type: "video/webm" });

test("parts go in order and the server assembles them", async () => {
  const server = fakeServer();
  const progress = [];
  const up = uploader(server, progress);
  for (const text of ["aa", "bbb", "c"]) up.add(blob(text));
  const saved = await up.finish(new Date("2026-01-01T10:01:00Z"));
  expect(saved.id).toBe("r1");
  expect(server.parts).toEqual(["aa", "bbb", "c"]);
  expect(server.requests[0]).toBe("POST http://yoom.test/api/recordings/uploads");
  expect(server.requests.at(-1)).toBe("POST http://yoom.test/api/recordings/uploads/u1/complete");
  expect(progress.at(-1)).toEqual({ sent: 6, total: 6 });
});

test("a dropped network is waited out, and a lost answer resumes where the server is", async () => {
  const server = fakeServer({ failFirstPutOf: new Set([1]), loseAnswerOf: new Set([2]) });
  const up = uploader(server);
  for (const text of ["a", "b", "c", "d"]) up.add(blob(text));
  await up.finish(new Date());
  expect(server.parts).toEqual(["a", "b", "c", "d"]);
  expect(server.completed).toBe(true);
});

test("a refusal stops the upload with the server's words", async () => {
  const server = fakeServer({ refuse: { index: 1, status: 413, error: "Your recordings use 2,000 MB…" } });
  const up = uploader(server);
  up.add(blob("a"));
  up.add(blob("b"));
  await expect(up.finish(new Date())).rejects.toThrow("Your recordings use 2,000 MB…");
  expect(server.completed).toBe(false);
  up.add(blob("c")); // nothing more is sent
  expect(server.parts).toEqual(["a"]);
});

test("nothing recorded is said so", async () => {
  await expect(uploader(fakeServer()).finish(new Date())).rejects.toThrow("Nothing was recorded.");
});
