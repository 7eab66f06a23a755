/**
 * metav1.Time on the wire: RFC 3339 to the second, UTC (`2026-11-24T07:32:17Z`). Takes epoch milliseconds, a Date,
 * or a timestamp string (e.g. Docker's, with nanoseconds), whose fraction is dropped.
 */
export function rfc3339(t: number | Date | string): string {
  return (typeof t === 'string' ? t : new Date(t).toISOString()).replace(/\.\d+Z$/, 'Z');
}

/** metav1.MicroTime on the wire: RFC 3339 with microseconds, UTC (`2026-11-24T07:32:17.123000Z`). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
