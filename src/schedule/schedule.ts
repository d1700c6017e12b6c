import type { Clock } from '../clock/clock.js'
import { fail } from '../errors.js'
import type { Draft, Log, Pending } from '../log/log.js'
import { createHeap } from './heap.js'
import { compilePattern } from '../topic/pattern.js'
import { seqKey, type Store, type StoreEntry } from '../store/store.js'
import { checkTopic } from '../topic/topic.js'
import { coded, describeValue, MAX_TIME, optionsOf } from '../check.js'
import { toTagged } from '../tagged.js'

/**
 * What a schedule publishes and when: exactly one of `cron` (5 or 6 fields, IANA `timezone`,
 * default UTC), `every` (ms, ticking at whole multiples since the Unix epoch) or `at` (once).
 *
 * @example
 * await bus.schedule('nightly-report', { cron: '0 2 * * *', timezone: 'Europe/Paris', type: 'report.due', data: {} })
 */
export interface ScheduleSpec<T extends string = string, D = unknown> {
  cron?: string
  every?: number
  at?: number | Date
  timezone?: string
  type: T
  data: D
  /** Ticks missed while no bus ran: `'latest'` fires the last one (default), `'all'` the last 100, `'none'` none. */
  catchUp?: 'none' | 'latest' | 'all'
  /** `'skip'` drops a tick while the previous tick's event is unhandled by an attached subscription it matched. */
  overlap?: 'allow' | 'skip'
}

/** What `schedules()` lists. */
export interface ScheduleInfo {
  name: string
  spec: ScheduleSpec
  nextAt: number | undefined
  lastFiredAt?: number
}

/** What is stored under `c/<name>`; an `at` schedule that fired stays as a tombstone (`done`). */
interface ScheduleRecord {
  name: string
  spec: ScheduleSpec
  created: number
  lastFiredAt?: number
  lastPublishedAt?: number
  done?: true
}

const RETRY_MS = 1000

/** The most ticks `catchUp: 'all'` fires after a gap. */
export const CATCH_UP_MAX = 100
const NAME = /^[\w-]{1,128}$/
const key = (name: string) => `c/${name}`

/** What the bus lends the scheduler. */
export interface ScheduleHost {
  store: Store
  clock: Clock
  log: Log
  /** An envelope checked like a publish (topic, schema, size), with this id. */
  draft(type: string, data: unknown, id: string): Draft | Promise<Draft>
  publish(type: string, data: unknown, options: { id: string }): Promise<unknown>
}

type Cron = { nextRun(from?: Date): Date | null; previousRuns(n: number, ref?: Date): Date[] }
const bad = (name: unknown, why: string): never =>
  fail('INVALID_SCHEDULE', `schedule ${describeValue(name)}: ${why}`)
/** A schedule name, or `INVALID_SCHEDULE`. */
const checkName = (name: unknown): string =>
  typeof name === 'string' && NAME.test(name)
    ? name
    : bad(name, 'the name must be 1..128 characters of [A-Za-z0-9_-]')
// Specs compared as superjson text: BigInt, Map, Set and Date in `data` compare by value.
const same = (a: ScheduleSpec, b: ScheduleSpec) =>
  JSON.stringify(toTagged(a)) === JSON.stringify(toTagged(b))

/**
 * The scheduler of one bus: schedules live in the store, a heap orders their next ticks, and one
 * clock timer waits for the earliest. Each tick publishes `schedule:<name>:<tickMs>` and writes
 * `lastFiredAt` in the same commit, checked against the record's version, so two runtimes firing
 * one tick produce one event.
 */
export const createScheduler = async (host: ScheduleHost) => {
  const { store, clock, log } = host
  // croner loads here, in this lazily loaded module's own chunk.
  const { Cron } = await import('croner')
  const records = new Map<
    string,
    { rec: ScheduleRecord; version: string; next: number | undefined }
  >()
  // [tickMs, name], soonest first; an entry whose tick no longer matches its record is stale.
  const heap = createHeap<string>()
  let timer: unknown
  let armed = Infinity
  let stopped = false

  // One parsed cron per (expression, zone), and its last answer: many schedules share both.
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
          c: new Cron(
            spec.cron!,
            tz === 'UTC' ? { utcOffset: 0, paused: true } : { timezone: tz, paused: true },
          ),
          after: NaN,
          next: undefined,
        }
      } catch (e) {
        return bad(name, `${(e as Error).message}`)
      }
      crons.set(k, c)
    }
    return c
  }

  /** The first tick strictly after `after`. */
  const nextTick = (name: string, spec: ScheduleSpec, after: number): number | undefined => {
    if (spec.every) return (Math.floor(after / spec.every) + 1) * spec.every
    if (spec.at !== undefined) return (spec.at as number) > after ? (spec.at as number) : undefined
    const c = cronOf(name, spec)
    if (c.after !== after) {
      c.after = after
      c.next = c.c.nextRun(new Date(after))?.getTime()
    }
    return c.next
  }

  /** Ticks in `(after, upTo]`, oldest first, at most `max` (the most recent ones). */
  const ticksIn = (
    name: string,
    spec: ScheduleSpec,
    after: number,
    upTo: number,
    max: number,
  ): number[] => {
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
  }

  const arm = () => {
    for (let top; (top = heap.peek()) && records.get(top[1])?.next !== top[0];) heap.pop()
    const at = heap.peek()?.[0] ?? Infinity
    if (at === armed || stopped) return
    clock.clearTimer(timer)
    armed = at
    timer =
      at < Infinity
        ? clock.setTimer(at, () => {
            armed = Infinity
            void log.track(fireDue()).catch(() => {})
          })
        : undefined
  }

  const plan = (name: string, after: number) => {
    const r = records.get(name)
    if (!r) return
    r.next = r.rec.done ? undefined : nextTick(name, r.rec.spec, after)
    if (r.next !== undefined) heap.push(r.next, name)
  }

  /**
   * Fires ticks: one pending for all, one commit. Each record is checked at the version this bus
   * saw; when another bus got there first, the records are read again and only ticks still
   * unfired are kept.
   */
  const fire = async (ticks: { name: string; at: number; silent?: boolean }[]) => {
    if (!ticks.length) return
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
          drafts.push(
            await host.draft(r.rec.spec.type, r.rec.spec.data, `schedule:${t.name}:${t.at}`),
          )
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
        extra.checks.push({ key: key(name), version: r.version })
        extra.mutations.push({ type: 'set', key: key(name), value: rec })
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
    await log.enqueue(p)
    // What landed is ours to know: the versions moved, so read the records again.
    for (const name of new Set(todo.map((t) => t.name))) await reload(name)
  }

  const reload = async (name: string) => {
    const e = await store.get(key(name))
    if (!e) {
      records.delete(name)
      return
    }
    const had = records.get(name)
    records.set(name, { rec: e.value as ScheduleRecord, version: e.version, next: had?.next })
  }

  /** Whether a subscription with a handler attached (anywhere) matched the event and has not handled it. */
  const pending = async (seq: number): Promise<boolean> => {
    const [event] = await log.read(seq, 1)
    if (event?.seq !== seq) return false
    const now = clock.now()
    for (const e of await store.list({ prefix: 's/' })) {
      const s = e.value as {
        name: string
        pattern: string
        cursor: number
        lease?: { until: number }
      }
      if (
        !s.lease ||
        s.lease.until <= now ||
        s.cursor > seq ||
        !compilePattern(s.pattern)(event.type)
      )
        continue
      const done = await Promise.all([
        store.get(seqKey(`a/${s.name}/`, seq)),
        store.get(seqKey(`x/${s.name}/`, seq)),
      ])
      if (!done[0] && !done[1]) return true
    }
    return false
  }

  /** The ticks due now, skipping those whose previous event is still unhandled (overlap: 'skip'). */
  const fireDue = async () => {
    const now = clock.now()
    const due: { name: string; at: number; silent?: boolean }[] = []
    while ((heap.peek()?.[0] ?? Infinity) <= now) {
      const [at, name] = heap.pop()!
      const r = records.get(name)
      if (!r || r.next !== at) continue
      let silent = false
      if (r.rec.spec.overlap === 'skip' && r.rec.lastPublishedAt !== undefined) {
        const seq = log.seqOf(`schedule:${name}:${r.rec.lastPublishedAt}`)
        silent = seq !== undefined && (await pending(seq))
      }
      due.push({ name, at, silent })
      plan(name, Math.max(at, now))
    }
    // A tick that fails to commit (a full store, say) is tried again a second later by the
    // schedule's catch-up policy (its lastFiredAt did not move), and the timer goes on.
    try {
      await fire(due)
    } catch (e) {
      retry()
      throw e
    } finally {
      arm()
    }
  }

  let retrying: unknown
  const retry = () => {
    if (retrying !== undefined || stopped) return
    retrying = clock.setTimer(clock.now() + RETRY_MS, () => {
      retrying = undefined
      void log
        .track(
          store
            .list({ prefix: 'c/' })
            .then(catchUp)
            .catch(() => retry())
            .finally(arm),
        )
        .catch(() => {})
    })
  }

  /** Start-up: what was missed while no bus ran, by each schedule's catch-up policy. */
  const catchUp = async (entries: StoreEntry[]) => {
    const now = clock.now()
    const ticks: { name: string; at: number; silent?: boolean }[] = []
    for (const e of entries) {
      const rec = e.value as ScheduleRecord
      records.set(rec.name, { rec, version: e.version, next: undefined })
      if (rec.done) continue
      // A spec changed after its last fire counts from the change (created moves with it).
      const since = Math.max(rec.lastFiredAt ?? -Infinity, rec.created)
      const policy = rec.spec.at !== undefined ? 'latest' : (rec.spec.catchUp ?? 'latest')
      const missed = ticksIn(rec.name, rec.spec, since, now, policy === 'all' ? CATCH_UP_MAX : 1)
      for (const at of missed) ticks.push({ name: rec.name, at, silent: policy === 'none' })
      plan(rec.name, now)
    }
    await fire(ticks)
    arm()
  }

  const normalize = (name: string, spec: ScheduleSpec): ScheduleSpec => {
    checkName(name)
    try {
      return normalizeSpec(name, spec)
    } catch (e) {
      throw coded(e, 'INVALID_SCHEDULE', `schedule "${name}": reading the spec threw`)
    }
  }
  const normalizeSpec = (name: string, spec: ScheduleSpec): ScheduleSpec => {
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
      cronOf(name, out)
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

  const info = (r: { rec: ScheduleRecord; next: number | undefined }): ScheduleInfo => ({
    name: r.rec.name,
    spec: r.rec.spec,
    nextAt: r.next,
    ...(r.rec.lastFiredAt !== undefined ? { lastFiredAt: r.rec.lastFiredAt } : {}),
  })

  // Schedules another bus adds or changes: pick them up.
  const unwatch = store.watch?.('c/', (keys) => {
    for (const k of keys) {
      const name = k.slice(2)
      void log
        .track(
          reload(name).then(() => {
            plan(name, clock.now())
            arm()
          }),
        )
        .catch(() => {})
    }
  })

  await catchUp(await store.list({ prefix: 'c/' }))

  return {
    async schedule(name: string, spec: ScheduleSpec): Promise<void> {
      const norm = normalize(name, spec)
      // The payload is checked like a publish's (schema, size) before anything is stored.
      await host.draft(norm.type, norm.data, `schedule:${name}:0`)
      for (;;) {
        const e = await store.get(key(name))
        const old = e?.value as ScheduleRecord | undefined
        if (old && same(old.spec, norm)) return
        const now = clock.now()
        if (norm.at !== undefined && (norm.at as number) <= now)
          bad(name, `at ${norm.at} (epoch ms) is in the past`)
        const rec: ScheduleRecord = {
          name,
          spec: norm,
          created: old?.created ?? now,
          ...(old?.lastFiredAt !== undefined ? { lastFiredAt: old.lastFiredAt } : {}),
        }
        // A changed spec counts from now for its first tick, keeping lastFiredAt.
        if (old) rec.created = now
        const res = await store.commit({
          checks: [{ key: key(name), version: e?.version ?? null }],
          mutations: [{ type: 'set', key: key(name), value: rec }],
        })
        if (!res.ok) continue
        records.set(name, { rec, version: res.version, next: undefined })
        plan(name, now)
        arm()
        return
      }
    },
    async unschedule(name: string): Promise<boolean> {
      const e = await store.get(key(checkName(name)))
      if (!e || (e.value as ScheduleRecord).done) return false
      const res = await store.commit({
        checks: [{ key: key(name), version: e.version }],
        mutations: [{ type: 'delete', key: key(name) }],
      })
      records.delete(name)
      arm()
      return res.ok
    },
    schedules: (): ScheduleInfo[] =>
      [...records.values()]
        .filter((r) => !r.rec.done)
        .map(info)
        .sort((a, b) => (a.nextAt ?? Infinity) - (b.nextAt ?? Infinity)),
    async run(name: string, options?: { id?: string }) {
      let id
      try {
        ;({ id } = optionsOf(options, 'runSchedule'))
      } catch (e) {
        throw coded(e, 'INVALID_OPTIONS', 'reading the options of runSchedule() threw')
      }
      const r = records.get(checkName(name))
      if (!r || r.rec.done) return bad(name, 'no such schedule')
      return host.publish(r.rec.spec.type, r.rec.spec.data, {
        id: id ?? `schedule:${name}:run:${clock.now()}`,
      })
    },
    stop() {
      stopped = true
      unwatch?.()
      clock.clearTimer(timer)
      clock.clearTimer(retrying)
    },
  }
}

export type Scheduler = Awaited<ReturnType<typeof createScheduler>>
