// Which ICE servers and transport policy a new peer connection gets (assets/local_meeting/helpers.js iceConfig).
import { describe, expect, test } from "bun:test";
import { iceConfig } from "../../assets/local_meeting/helpers.js";

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
