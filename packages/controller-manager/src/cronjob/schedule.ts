import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from '../duration.js';

/** A parsed schedule: the first activation strictly after a time (robfig/cron's Schedule.Next). */
export interface Schedule { next(after: number): number }

/** robfig/cron's descriptors that cron-parser spells differently or lacks. */
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/**
 * Parses a CronJob schedule as upstream's cron.ParseStandard: five fields (minute hour day-of-month month
 * day-of-week, day-of-month and day-of-week OR-ed when both are restricted), `@hourly`-style descriptors and
 * `@every <duration>`, read in `timeZone` (an IANA name; the controller's zone, UTC here, when unset).
 * Throws with the parser's message when the line is not a schedule.
 */
export function parseSchedule(schedule: string, timeZone?: string): Schedule {
  const line = schedule.trim();
  if (/^(CRON_)?TZ=/.test(line)) throw new Error('CRON_TZ or TZ used in schedule is not supported, use the timeZone field');
  const every = /^@every\s+(\S+)$/.exec(line);
  if (every) {
    // ConstantDelaySchedule: at least a second, whole seconds, from the given time.
    const ms = Math.max(1000, Math.floor(parseDuration(every[1]) / 1000) * 1000);
    return { next: (after) => Math.floor(after / 1000) * 1000 + ms };
  }
  const expr = line.startsWith('@') ? DESCRIPTORS[line.toLowerCase()] : line;
  if (!expr) throw new Error(`unrecognized descriptor: ${line}`);
  const fields = expr.split(/\s+/);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: ${line}`);
  const tz = timeZone || 'UTC';
  // Validate now, so a bad line fails at parse time and not at the first next().
  CronExpressionParser.parse(expr, { tz, currentDate: new Date(0) });
  return {
    next(after) {
      // cron-parser answers the first activation after currentDate; robfig's Next works on whole seconds.
      const it = CronExpressionParser.parse(expr, { tz, currentDate: new Date(Math.floor(after / 1000) * 1000) });
      return it.next().getTime();
    },
  };
}

/** How a run of missed schedules is classified (upstream's missedSchedulesType). */
export type MissedSchedules = 'none' | 'few' | 'many';

/**
 * Upstream's mostRecentScheduleTime: from the last schedule time (or the CronJob's creation), clipped to
 * `now - startingDeadlineSeconds` when asked, the most recent activation not after `now` (undefined if none),
 * with how many were missed; throws when the schedule never fires twice a second apart (`0 0 31 2 *`).
 */
export function mostRecentScheduleTime(
  s: Schedule, now: number, opts: { lastScheduleTime?: number; creationTime: number; startingDeadlineSeconds?: number | null },
): { earliest: number; mostRecent?: number; missed: MissedSchedules } {
  let earliest = opts.lastScheduleTime ?? opts.creationTime;
  if (opts.startingDeadlineSeconds !== undefined && opts.startingDeadlineSeconds !== null) {
    // Nothing before the deadline window is going to be started anyway.
    earliest = Math.max(earliest, now - opts.startingDeadlineSeconds * 1000);
  }
  const t1 = s.next(earliest);
  const t2 = s.next(t1);
  if (now < t1) return { earliest, missed: 'none' };
  if (now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) throw new Error('time difference between two schedules is less than 1 second');
  const elapsed = Math.floor((now - t1) / 1000);
  const missedCount = Math.floor(elapsed / between) + 1;
  // Start one interval before the estimate and let the schedule find the exact times (irregular schedules too).
  const potentialEarliest = t1 + (missedCount - 2) * between * 1000;
  let mostRecent: number | undefined;
  for (let t = s.next(potentialEarliest); t <= now; t = s.next(t)) mostRecent = t;
  const missed: MissedSchedules = missedCount > 100 ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliest, mostRecent, missed };
}

/** Padding after the next activation, against clock skew (upstream's nextScheduleDelta). */
export const NEXT_SCHEDULE_DELTA_MS = 100;

/** How long until the sync after the next activation (upstream's nextScheduleTimeDuration). */
export function nextScheduleDelay(s: Schedule, now: number, opts: { lastScheduleTime?: number; creationTime: number }): number {
  let from: number;
  try {
    const r = mostRecentScheduleTime(s, now, { ...opts, startingDeadlineSeconds: undefined });
    from = r.mostRecent ?? (r.missed === 'none' ? r.earliest : now);
  } catch {
    from = now;
  }
  return s.next(from) + NEXT_SCHEDULE_DELTA_MS - now;
}

/** RFC 3339 of `t` in `timeZone` with its offset (`2026-12-02T01:00:00+01:00`), as Go's Time.In(loc).Format(RFC3339). */
export function formatInZone(t: number, timeZone?: string): string {
  const tz = timeZone || 'UTC';
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offsetMin = Math.round((local - Math.floor(t / 1000) * 1000) / 60_000);
  const base = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  if (offsetMin === 0) return `${base}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${base}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
