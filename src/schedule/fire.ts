import type { Log } from '../log/log.js'
import type { Draft, Pending } from '../log/pending.js'
import { keys } from '../store/keys.js'
import type { KnownSchedule, ScheduleRecord, Tick } from './spec.js'
import { tickId } from './tick-id.js'

/** What firing needs from the scheduler. */
export interface FireHost {
  log: Log
  /** An envelope checked like a publish (topic, schema, size), with this id. */
  draft(type: string, data: unknown, id: string): Draft | Promise<Draft>
  records: Map<string, KnownSchedule>
  /** Reads one schedule's record again. */
  reload(name: string): Promise<void>
}

/**
 * Fires ticks: one pending for all, one commit. Each record is checked at the version this bus
 * saw; when another bus got there first, the records are read again and only ticks still
 * unfired are kept.
 *
 * @example
 * await fireTicks(host, [{ name: 'nightly', at: 1_700_000_000_000 }])
 */
export const fireTicks = async (host: FireHost, ticks: Tick[]): Promise<void> => {
  if (!ticks.length) return
  const { records, reload } = host
  const p: Pending = {
    drafts: undefined,
    wait: undefined,
    extra: undefined,
    single: false,
    resolve: () => {},
    reject: () => {},
  }
  let todo = ticks
  const build = async () => {
    const drafts: Draft[] = []
    const extra: NonNullable<Pending['extra']> = { checks: [], mutations: [] }
    const last = new Map<string, number>()
    const published = new Map<string, number>()
    // A schedule removed while its tick was on the way is dropped.
    todo = todo.filter((t) => records.has(t.name))
    for (const t of todo) {
      const r = records.get(t.name)!
      if (!t.silent) {
        drafts.push(await host.draft(r.rec.spec.type, r.rec.spec.data, tickId(t.name, t.at)))
        published.set(t.name, t.at)
      }
      last.set(t.name, t.at)
    }
    for (const [name, at] of last) {
      const r = records.get(name)!
      const rec: ScheduleRecord = { ...r.rec, lastFiredAt: at }
      const pub = published.get(name)
      if (pub !== undefined) rec.lastPublishedAt = pub
      if (rec.spec.at !== undefined) rec.done = true
      extra.checks.push({ key: keys.schedule(name), version: r.version })
      extra.mutations.push({ type: 'set', key: keys.schedule(name), value: rec })
    }
    p.drafts = drafts
    p.extra = extra
  }
  p.recheck = async () => {
    for (const name of new Set(todo.map((t) => t.name))) await reload(name)
    todo = todo.filter((t) => {
      const r = records.get(t.name)
      return r && !r.rec.done && (r.rec.lastFiredAt ?? -Infinity) < t.at
    })
    await build()
    return todo.length > 0
  }
  await build()
  await host.log.enqueue(p)
  // What landed is ours to know: the versions moved, so read the records again.
  for (const name of new Set(todo.map((t) => t.name))) await reload(name)
}
