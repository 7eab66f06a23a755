/** Parses a Go-style duration ("1s", "500ms", "2m", "1h30m") into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) { total += Number(m[1]) * units[m[2]!]!; matched = re.lastIndex; }
  if (!text || matched !== text.length) throw new Error(`invalid duration ${JSON.stringify(text)} (want e.g. 1s, 500ms, 2m)`);
  return total;
}

/** `host:port` → [host, port]; throws when the port is not a number in 0–65535. */
export function parseHostPort(text: string): [string, number] {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid address ${JSON.stringify(text)} (want host:port)`);
  return [text.slice(0, i), port];
}
