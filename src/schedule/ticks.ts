import type { ScheduleSpec } from '../types.js'
import { badSchedule, type ScheduleRecord, type Tick } from './spec.js'

/** The part of croner's `Cron` the scheduler uses. */
type Cron = { nextRun(from?: Date): Date | null; previousRuns(n: number, ref?: Date): Date[] }
type CronClass = new (pattern: string, options: object) => Cron

/** When a schedule's ticks fall (see {@link createTicks}). */
export interface Ticks {
  /** Parses a cron spec's expression and zone, or refuses it with `INVALID_SCHEDULE`. */
  checkCron(name: string, spec: ScheduleSpec): void
  /** The first tick strictly after `after`. */
  nextTick(name: string, spec: ScheduleSpec, after: number): number | undefined
  /** Ticks in `(after, upTo]`, oldest first, at most `max` (the most recent ones). */
  ticksIn(name: string, spec: ScheduleSpec, after: number, upTo: number, max: number): number[]
}

/**
 * Tick arithmetic for `every`, `at` and `cron` specs, with one parsed cron per (expression, zone)
 * and its last answer kept: many schedules share both.
 *
 * @example
 * const { Cron } = await import('croner')
 * const ticks = createTicks(Cron)
 * ticks.nextTick('nightly', { cron: '0 3 * * *', type: 'report.due' }, Date.now())
 */
export const createTicks = (CronClass: CronClass): Ticks => {
  const crons = new Map<string, { c: Cron; after: number; next: number | undefined }>()
  const cronOf = (name: string, spec: ScheduleSpec) => {
    const tz = spec.timezone ?? 'UTC'
    const k = `${spec.cron}\u0000${tz}`
    let c = crons.get(k)
    if (!c) {
      try {
        // Check the zone up front (croner would only fail when computing); UTC needs no zone data.
        if (tz !== 'UTC') new Intl.DateTimeFormat('en', { timeZone: tz })
        c = {
          c: new CronClass(
            spec.cron!,
            tz === 'UTC' ? { utcOffset: 0, paused: true } : { timezone: tz, paused: true },
          ),
          after: NaN,
          next: undefined,
        }
      } catch (e) {
        return badSchedule(name, `${(e as Error).message}`)
      }
      crons.set(k, c)
    }
    return c
  }
  return {
    checkCron: (name, spec) => void cronOf(name, spec),
    nextTick(name, spec, after) {
      if (spec.every) return (Math.floor(after / spec.every) + 1) * spec.every
      if (spec.at !== undefined)
        return (spec.at as number) > after ? (spec.at as number) : undefined
      const c = cronOf(name, spec)
      if (c.after !== after) {
        c.after = after
        c.next = c.c.nextRun(new Date(after))?.getTime()
      }
      return c.next
    },
    ticksIn(name, spec, after, upTo, max) {
      if (spec.at !== undefined)
        return (spec.at as number) > after && (spec.at as number) <= upTo ? [spec.at as number] : []
      if (spec.every) {
        const last = Math.floor(upTo / spec.every) * spec.every
        const first = Math.max(
          (Math.floor(after / spec.every) + 1) * spec.every,
          last - (max - 1) * spec.every,
        )
        const out: number[] = []
        for (let t = first; t <= last; t += spec.every) out.push(t)
        return out
      }
      // Bounded however long the gap: croner walks back from the end.
      return cronOf(name, spec)
        .c.previousRuns(max, new Date(upTo + 1))
        .map((d) => d.getTime())
        .filter((t) => t > after)
        .reverse()
    },
  }
}

/** The most ticks `catchUp: 'all'` fires after a gap. */
export const CATCH_UP_MAX = 100

/**
 * The ticks a schedule missed up to `now`, by its catch-up policy: none (fired silently, only
 * moving `lastFiredAt`), the latest, or all (at most {@link CATCH_UP_MAX}). A spec changed after its
 * last fire counts from the change (`created` moves with it).
 *
 * @example
 * for (const tick of missedTicks(ticks, record, clock.now())) due.push(tick)
 */
export const missedTicks = (ticks: Ticks, rec: ScheduleRecord, now: number): Tick[] => {
  if (rec.done) return []
  const since = Math.max(rec.lastFiredAt ?? -Infinity, rec.created)
  const policy = rec.spec.at !== undefined ? 'latest' : (rec.spec.catchUp ?? 'latest')
  const missed = ticks.ticksIn(rec.name, rec.spec, since, now, policy === 'all' ? CATCH_UP_MAX : 1)
  return missed.map((at) => ({ name: rec.name, at, silent: policy === 'none' }))
}
