// What the benchmarks measure processes with (from /proc) and how they summarise samples; shared by run.mjs and the
// benchmarks in their own files.
import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The RSS of a process in MiB, from /proc. */
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** RSS once it stops falling (GC after start-up, freed buffers), polled for at most `ms`. */
export async function settledRss(pid, ms = 15_000) {
  let last = rssMiB(pid);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = rssMiB(pid);
    if (now >= last - 1) return Math.min(now, last);
    last = now;
  }
  return last;
}

/** The middle sample (the upper one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
