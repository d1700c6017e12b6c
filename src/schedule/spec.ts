import { fail } from '../errors.js'
import { SUBSCRIPTION_NAME } from '../subscriptions/name.js'
import { checkTopic } from '../topic/topic.js'
import { coded, describeValue, MAX_TIME } from '../check.js'
import { toTagged } from '../tagged.js'
import type { ScheduleInfo, ScheduleSpec } from '../types.js'

/** What is stored under `c/<name>`; an `at` schedule that fired stays as a tombstone (`done`). */
export interface ScheduleRecord {
  name: string
  spec: ScheduleSpec
  created: number
  lastFiredAt?: number
  lastPublishedAt?: number
  done?: true
}

const NAME = SUBSCRIPTION_NAME // schedules are named by the same rule

/**
 * Refuses a schedule with `INVALID_SCHEDULE`, naming it.
 *
 * @example
 * if (!spec) badSchedule(name, 'a spec object is required')
 */
export const badSchedule = (name: unknown, why: string): never =>
  fail('INVALID_SCHEDULE', `schedule ${describeValue(name)}: ${why}`)

/**
 * A schedule name, or `INVALID_SCHEDULE`.
 *
 * @example
 * const name = checkScheduleName('nightly')
 */
export const checkScheduleName = (name: unknown): string =>
  typeof name === 'string' && NAME.test(name)
    ? name
    : badSchedule(name, 'the name must be 1..128 characters of [A-Za-z0-9_-]')

/**
 * Whether two specs are the same, compared as superjson text: BigInt, Map, Set and Date in `data`
 * compare by value.
 *
 * @example
 * if (old && sameSpec(old.spec, spec)) return
 */
export const sameSpec = (a: ScheduleSpec, b: ScheduleSpec): boolean =>
  JSON.stringify(toTagged(a)) === JSON.stringify(toTagged(b))

/**
 * A spec checked and copied to its known fields, or `INVALID_SCHEDULE` (a throwing getter becomes
 * the cause). `checkCron` parses a cron spec (its expression and zone) or refuses it.
 *
 * @example
 * const spec = normalizeSchedule('nightly', { cron: '0 3 * * *', type: 'report.due' }, ticks.checkCron)
 */
export const normalizeSchedule = (
  name: string,
  spec: ScheduleSpec,
  checkCron: (name: string, spec: ScheduleSpec) => void,
): ScheduleSpec => {
  checkScheduleName(name)
  try {
    return normalizeSpec(name, spec, checkCron)
  } catch (e) {
    throw coded(e, 'INVALID_SCHEDULE', `schedule "${name}": reading the spec threw`)
  }
}

const normalizeSpec = (
  name: string,
  spec: ScheduleSpec,
  checkCron: (name: string, spec: ScheduleSpec) => void,
): ScheduleSpec => {
  const bad = badSchedule
  if (!spec || typeof spec !== 'object') return bad(name, 'a spec object is required')
  const kinds = (['cron', 'every', 'at'] as const).filter((k) => spec[k] !== undefined)
  if (kinds.length !== 1)
    bad(name, `give exactly one of cron, every or at (got ${kinds.join(', ') || 'none'})`)
  try {
    checkTopic(spec.type)
  } catch (e) {
    bad(name, (e as Error).message)
  }
  const out: ScheduleSpec = { type: spec.type, data: spec.data }
  if (spec.cron !== undefined) {
    if (typeof spec.cron !== 'string') bad(name, 'cron must be a string')
    out.cron = spec.cron
    if (spec.timezone !== undefined) {
      if (typeof spec.timezone !== 'string')
        bad(name, `timezone must be an IANA zone name, got ${describeValue(spec.timezone)}`)
      out.timezone = spec.timezone
    }
    checkCron(name, out)
  } else if (spec.timezone !== undefined) bad(name, 'timezone applies to cron only')
  if (spec.every !== undefined) {
    // Whole ms from 1 to year 9999: each tick moves time forward, and catch-up stays bounded.
    if (!Number.isSafeInteger(spec.every) || spec.every < 1 || spec.every > MAX_TIME)
      bad(
        name,
        `every must be a positive whole number of ms (1 to ${MAX_TIME}), got ${describeValue(spec.every)}`,
      )
    out.every = spec.every
  }
  if (spec.at !== undefined) {
    const at = spec.at instanceof Date ? spec.at.getTime() : spec.at
    if (typeof at !== 'number' || !Number.isFinite(at) || at > MAX_TIME)
      bad(name, `at must be epoch ms or a Date by year 9999, got ${describeValue(at)}`)
    out.at = at
  }
  if (spec.catchUp !== undefined) {
    if (!['none', 'latest', 'all'].includes(spec.catchUp))
      bad(name, `catchUp must be 'none', 'latest' or 'all', got ${describeValue(spec.catchUp)}`)
    out.catchUp = spec.catchUp
  }
  if (spec.overlap !== undefined) {
    if (!['allow', 'skip'].includes(spec.overlap))
      bad(name, `overlap must be 'allow' or 'skip', got ${describeValue(spec.overlap)}`)
    out.overlap = spec.overlap
  }
  return out
}

/** A schedule as this bus knows it: its record, the record's stored version, and its next tick. */
export interface KnownSchedule {
  rec: ScheduleRecord
  version: string
  next: number | undefined
}

/** A tick to fire; `silent` ones move `lastFiredAt` without publishing (catch-up 'none', overlap 'skip'). */
export interface Tick {
  name: string
  at: number
  silent?: boolean
}

/**
 * What `schedules()` shows of a known schedule.
 *
 * @example
 * const shown = [...records.values()].map(scheduleInfo)
 */
export const scheduleInfo = (r: KnownSchedule): ScheduleInfo => ({
  name: r.rec.name,
  spec: r.rec.spec,
  nextAt: r.next,
  ...(r.rec.lastFiredAt !== undefined ? { lastFiredAt: r.rec.lastFiredAt } : {}),
})
