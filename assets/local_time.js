// Dates and times in the viewer's own time zone, in English as the rest of Yoom: a tiny replacement for
// moment.js (the home page's clock and the meeting times) on the browser's Intl. Formats use moment's
// tokens — dddd ddd MMMM MMM D YYYY h mm A, and [literal text] — so the words read as before.
// Pure (no React): tests/js/local_time.test.js runs it under bun.

const LOCALE = "en-US";
const NAMES = {
  dddd: { weekday: "long" },
  ddd: { weekday: "short" },
  MMMM: { month: "long" },
  MMM: { month: "short" },
};
const formatters = {};

function named(token, date, timeZone) {
  const key = `${token}|${timeZone || ""}`;
  formatters[key] ||= new Intl.DateTimeFormat(LOCALE, { ...NAMES[token], timeZone });
  return formatters[key].format(date);
}

// The wall clock in `timeZone` (the viewer's when undefined): {year, month, day, hour, minute}.
function wallClock(date, timeZone) {
  const key = `wall|${timeZone || ""}`;
  formatters[key] ||= new Intl.DateTimeFormat(LOCALE, {
    timeZone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const parts = {};
  for (const p of formatters[key].formatToParts(date)) parts[p.type] = p.value;
  return { year: parts.year, day: String(Number(parts.day)), hour: Number(parts.hour) % 24, minute: parts.minute };
}

const TOKENS = /\[([^\]]*)\]|dddd|ddd|MMMM|MMM|YYYY|D|h|mm|A/g;

export function formatTime(date, format, timeZone) {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return "";
  const wall = wallClock(date, timeZone);
  return format.replace(TOKENS, (token, literal) => {
    if (literal !== undefined) return literal;
    if (token in NAMES) return named(token, date, timeZone);
    if (token === "YYYY") return wall.year;
    if (token === "D") return wall.day;
    if (token === "h") return String(wall.hour % 12 || 12);
    if (token === "mm") return wall.minute;
    return wall.hour < 12 ? "AM" : "PM"; // A
  });
}

// An ISO 8601 time from the server ("" or nonsense: no date).
export function parseTime(iso) {
  if (typeof iso !== "string" || !iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}
