// Dates and times as the pages show them (assets/local_time.js), moment's formats on Intl.
import { describe, expect, test } from "bun:test";
import { formatTime, parseTime } from "../../assets/local_time.js";

const at = (iso) => parseTime(iso);

describe("formatTime", () => {
  test("the home page's clock and date", () => {
    const d = at("2026-12-07T15:05:09Z");
    expect(formatTime(d, "h:mm A", "UTC")).toBe("3:05 PM");
    expect(formatTime(d, "dddd, MMMM D, YYYY", "UTC")).toBe("Monday, December 7, 2026");
  });

  test("midnight and noon read 12, with plain spaces (not Intl's narrow no-break space)", () => {
    expect(formatTime(at("2026-12-07T00:30:00Z"), "h:mm A", "UTC")).toBe("12:30 AM");
    expect(formatTime(at("2026-12-07T12:00:00Z"), "h:mm A", "UTC")).toBe("12:00 PM");
  });

  test("in the viewer's time zone, with literal text in brackets", () => {
    const d = at("2026-12-10T14:30:00Z"); // 9:30 in New York, 23:30 in Tokyo
    expect(formatTime(d, "dddd, MMMM D, YYYY [at] h:mm A", "America/New_York")).toBe(
      "Thursday, December 10, 2026 at 9:30 AM",
    );
    expect(formatTime(d, "ddd, MMM D, YYYY · h:mm A", "Asia/Tokyo")).toBe("Thu, Dec 10, 2026 · 11:30 PM");
    expect(formatTime(d, "ddd, MMM D", "Asia/Tokyo")).toBe("Thu, Dec 10");
  });

  test("no time, no text", () => {
    expect(parseTime("")).toBeNull();
    expect(parseTime("not a time")).toBeNull();
    expect(formatTime(null, "h:mm A")).toBe("");
  });
});
