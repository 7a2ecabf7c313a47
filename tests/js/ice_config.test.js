// Which ICE servers and transport policy a new peer connection gets (assets/local_meeting/helpers.js iceConfig).
import { describe, expect, test } from "bun:test";
import { ICE_RENEW_AHEAD_S, ICE_RENEW_MIN_MS, iceConfig, iceRenewDelayMs } from "../../assets/local_meeting/helpers.js";

const STUN = { urls: "stun:stun.example.org:3478" };
const TURN = { urls: ["turn:turn.example.org:3478"], username: "1700000000:u1", credential: "abc=" };

describe("iceConfig", () => {
  test("the token's list, with this browser's own TURN credentials, wins over the welcome's", () => {
    expect(iceConfig({ ice_servers: [STUN, TURN] }, [STUN])).toEqual({
      iceServers: [STUN, TURN],
      iceTransportPolicy: "all",
    });
  });

  test("the welcome's list when the token has none", () => {
    expect(iceConfig({ ice_servers: [] }, [STUN]).iceServers).toEqual([STUN]);
    expect(iceConfig(null, [STUN]).iceServers).toEqual([STUN]);
    expect(iceConfig(undefined, undefined).iceServers).toEqual([]);
  });

  test("relay only when the token says so; anything else is the browser's default", () => {
    expect(iceConfig({ ice_servers: [TURN], ice_transport_policy: "relay" }, []).iceTransportPolicy).toBe("relay");
    expect(iceConfig({ ice_servers: [TURN], ice_transport_policy: "public" }, []).iceTransportPolicy).toBe("all");
    expect(iceConfig(null, []).iceTransportPolicy).toBe("all");
  });
});

describe("iceRenewDelayMs", () => {
  const now = 1_700_000_000_000;
  const withTurn = (expiry) => ({ ice_servers: [STUN, { ...TURN, username: `${expiry}:u1` }] });

  test("renews ahead of the short-lived credentials' expiry", () => {
    expect(iceRenewDelayMs(withTurn(now / 1000 + 3600), now)).toBe((3600 - ICE_RENEW_AHEAD_S) * 1000);
  });

  test("never sooner than the minimum, even when they are about to lapse or have", () => {
    expect(iceRenewDelayMs(withTurn(now / 1000 + 30), now)).toBe(ICE_RENEW_MIN_MS);
    expect(iceRenewDelayMs(withTurn(now / 1000 - 30), now)).toBe(ICE_RENEW_MIN_MS);
  });

  test("nothing to renew without short-lived credentials", () => {
    expect(iceRenewDelayMs({ ice_servers: [STUN] }, now)).toBeNull();
    expect(iceRenewDelayMs({ ice_servers: [STUN, { ...TURN, username: "static-user" }] }, now)).toBeNull();
    expect(iceRenewDelayMs(null, now)).toBeNull();
  });
});
