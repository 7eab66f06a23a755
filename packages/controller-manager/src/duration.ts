const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration string (`40s`, `1m30s`, `500ms`, `0`), as kube-controller-manager's flags take them, in ms. */
export function parseDuration(value: string): number {
  if (value === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * UNITS[m[2]];
    end = re.lastIndex;
  }
  if (!value || end !== value.length) throw new Error(`invalid duration "${value}" (want e.g. 40s, 1m0s, 500ms)`);
  return total;
}
