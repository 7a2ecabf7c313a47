// <LocalTime>: an ISO time (or, without one, the current time, ticking) formatted by local_time.js.
// Wrapped by yoom/components/local_time.py. Drawn after mount: the server-side render has no clock.
import React, { useEffect, useState } from "react";
import { formatTime, parseTime } from "./local_time.js";

export function LocalTime({ iso, format = "h:mm A", interval = 0, ...rest }) {
  const [now, setNow] = useState(null);
  useEffect(() => {
    setNow(new Date());
    if (!interval || iso) return undefined;
    const timer = setInterval(() => setNow(new Date()), interval);
    return () => clearInterval(timer);
  }, [iso, interval]);
  const date = iso ? parseTime(iso) : now;
  return <time dateTime={date && now ? date.toISOString() : undefined} {...rest}>{date && now ? formatTime(date, format) : ""}</time>;
}
