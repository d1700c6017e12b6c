import type { Clock } from '../clock/clock.js'
import { idPrefix, ownId, type BusEvent } from '../event.js'
import { createIdIndex, type IdRecord } from './dedup.js'
import type { Delayed } from './delayed.js'
import {
  prefixEnd,
  seqKey,
  type Check,
  type ListOptions,
  type Mutation,
  type Store,
} from '../store/store.js'

/** Key layout of the log: events by seq, dedup records by commit number, the head. */
export const EVENTS = 'e/'
export const IDS = 'i/'
export const HEAD = 'm/head'
/** Delayed events, by due time then id (see _delayed.ts, which keeps its own copy: importing this
 * module from that lazy chunk would pull shared code into what loads up front). */
const DELAYED = 'd/'
const MAX_BATCH = 1000

/** The head record: the last seq and the last dedup record number. Every appending commit writes it. */
interface Head {
  seq: number
  n: number
}
/** An envelope whose `seq` and `time` the log fills in when it appends it (then freezes it). */
export type Draft = { -readonly [K in keyof BusEvent]: BusEvent[K] }
/** What `publish` resolves; no `seq` for an event held aside until it is due. */
export interface Appended {
  id: string
  seq?: number
  duplicate: boolean
}
/** Extra checks and writes that must land in the same commit as an append (schedules). */
export interface Extra {
  checks: Check[]
  mutations: Mutation[]
}

export interface Pending {
  /** Drafts with an empty id get one of the bus's own ids when they reach the log. */
  drafts: Draft[] | undefined
  counters?: number[]
  wait: Promise<unknown> | undefined
  extra: Extra | undefined
  /** Resolve with the one result rather than an array (saves a promise per publish). */
  single: boolean
  /** Per draft: hold it aside until this time (delayed publish). */
  holds?: number[]
  /** Drafts coming off the delayed list: already in the dedup index, never duplicates. */
  due?: boolean
  /** After a failed check, re-reads what the extra checks guard; false drops the pending as done. */
  recheck?: () => Promise<boolean>
  failed?: boolean
  resolve(r: Appended | Appended[]): void
  reject(e: unknown): void
}

export interface LogOptions {
  store: Store
  clock: Clock
  dedupe: { window: number; max: number }
  retention: { events: number; age: number }
  /** A subscription with no handler for this long stops pinning retention. */
  expireAfter: number
  /** Called after each commit (own or another writer's) with the new events in seq order. */
  onAppend(events: BusEvent[]): void
}

export type Log = ReturnType<typeof createLog>

/**
 * The append pipeline: group commit in call order, the in-memory head and dedup index guarded by
 * the commit's version check on the head, and dedup eviction and retention riding on appends.
 * One batch is one commit: its events, one dedup record, the head, and any pruning.
 */
export const createLog = (o: LogOptions) => {
  const { store, clock } = o
  const prefix = idPrefix(clock.now())
  let counter = 0
  const index = createIdIndex(prefix)
  // A FIFO with a moving head: Array#shift is O(n), and 100,000 unawaited publishes are normal.
  let queue: Pending[] = []
  let qh = 0
  const queued = () => queue.length - qh
  const waiters: (() => void)[] = []
  let head: Head = { seq: 0, n: 0 }
  let headVersion: string | null = null
  let first = 1
  let running = false
  // The highest seq another writer's commit was reported to append: kept until the head reaches
  // it (no wake-up is dropped). `tries`: reads since the last report that still found the head
  // behind; `retry`: the timer of the next one.
  let foreign = 0
  let tries = 0
  let retry: unknown
  // Deletes of evicted records, carried until a commit lands them.
  let pruned: Mutation[] = []
  // Each durable subscription's cursor, and until when it pins: retention keeps everything from
  // the lowest live one on, and a subscription left without a handler past its expiry stops pinning.
  const pins = new Map<string, { cursor: number; until: number }>()
  let pinsStale = false
  let commits = 0
  const loadPins = async () => {
    pinsStale = false
    const subs = await store.list({ prefix: 's/' })
    pins.clear()
    for (const { key, value } of subs) {
      const r = value as {
        cursor: number
        created: number
        detached?: number
        lease?: { until: number }
      }
      pins.set(key.slice(2), {
        cursor: r.cursor,
        until: Math.max(r.lease?.until ?? 0, r.detached ?? r.created) + o.expireAfter,
      })
    }
  }
  const pinned = (now: number) => {
    let min = Infinity
    for (const p of pins.values()) if (p.until > now && p.cursor < min) min = p.cursor
    return min
  }

  const learn = (records: IdRecord[]) => {
    for (const r of records) index.add(r)
  }
  /** The values of the entries a listing finds. */
  const values = async <T>(o: ListOptions): Promise<T[]> =>
    (await store.list(o)).map((e) => e.value as T)
  const records = (from: number, to?: number) =>
    values<IdRecord>({
      start: seqKey(IDS, from),
      end: to === undefined ? prefixEnd(IDS) : seqKey(IDS, to + 1),
    })

  // Work in progress that is not a commit of the queue (lazy loads, due timers): for settling.
  const work = new Set<Promise<unknown>>()
  const track = <T>(p: Promise<T>): Promise<T> => {
    work.add(p)
    void p.catch(() => {}).finally(() => work.delete(p))
    return p
  }
  // Delayed events: their timer code loads when the first one is held or found at start-up.
  let delayed: Promise<Delayed> | undefined
  /** Queues a pending built elsewhere (due delayed events, schedule ticks); settles with its commit. */
  const enqueue = (p: Pending) =>
    new Promise<unknown>((resolve, reject) => {
      p.resolve = resolve
      p.reject = reject
      queue.push(p)
      kick()
    })
  const delays = () =>
    (delayed ??= track(
      import('./delayed.js').then((m) => m.createDelayed({ store, clock, track, enqueue })),
    ))
  const armDue = (at: number) => void track(delays().then((d) => d.arm(at)))

  const ready = (async () => {
    const [h, ids, oldest] = await Promise.all([
      store.get(HEAD),
      records(0),
      store.list({ prefix: EVENTS, limit: 1 }),
      loadPins(),
    ])
    head = (h?.value as Head | undefined) ?? head
    headVersion = h?.version ?? null
    learn(ids)
    first = (oldest[0]?.value as BusEvent | undefined)?.seq ?? head.seq + 1
    if ((await store.list({ prefix: DELAYED, limit: 1 })).length) await (await delays()).next()
  })()

  const unwatch = store.watch?.(EVENTS, (keys) => {
    for (const k of keys) foreign = Math.max(foreign, +k.slice(2)) // 2: EVENTS.length
    // Read at once (a pending retry's timer stays armed: firing late, it only kicks the log).
    retry = tries = 0
    kick()
  })
  // Another bus's delayed events may fall due before ours.
  const unwatchDelayed = store.watch?.(
    DELAYED,
    () =>
      void delays()
        .then((d) => d.next())
        .catch(() => {}),
  )
  // Another bus may subscribe from further back than this one knows: re-read cursors before
  // pruning when a subscription appears. Known ones only move forward, which keeping more covers.
  const unwatchSubs = store.watch?.('s/', (keys) => {
    if (keys.some((k) => !pins.has(k.slice(2)))) pinsStale = true
  })

  /** Catches up with what another writer committed: its dedup records, then its events. */
  const refresh = async () => {
    const h = await store.get(HEAD)
    if (!h || h.version === headVersion) return
    const to = h.value as Head
    learn(await records(head.n + 1, to.n))
    const events = await values<BusEvent>({
      start: seqKey(EVENTS, head.seq + 1),
      end: seqKey(EVENTS, to.seq + 1),
    })
    head = to
    headVersion = h.version
    if (events.length) o.onAppend(events)
  }

  /** Evicts dedup records past the window or the size bound, oldest first, and queues their deletes. */
  const evict = (now: number, adding: number) => {
    for (const r of index.oldest()) {
      if (r.t >= now - o.dedupe.window && index.count + adding <= o.dedupe.max) break
      pruned.push({ type: 'delete', key: seqKey(IDS, index.evict().n) })
    }
  }

  /** The first seq younger than `cutoff`, from the dedup records' times (0 when unknown). */
  const ageCut = (cutoff: number): number => {
    let cut = 0
    let n = 0
    // Bounded per commit; the cut catches up over the next ones.
    for (const r of index.oldest()) {
      if (r.t >= cutoff || ++n > 64) break
      if (r.s) cut = r.s + r.ids.length
    }
    return cut
  }

  const commitBatch = async (batch: Pending[]) => {
    for (;;) {
      const now = clock.now()
      evict(now, 0)
      const mutations: Mutation[] = []
      const checks: Check[] = [{ key: HEAD, version: headVersion }]
      const events: Draft[] = []
      const ids: string[] = []
      const held: string[] = []
      const results: Appended[] = []
      const fresh = new Map<string, number>()
      let seq = head.seq
      const counters: number[] = []
      let nextDue = Infinity
      for (const p of batch) {
        let j = 0
        for (const d of p.drafts!) {
          const hold = p.holds?.[j] ?? 0
          const c = p.counters![j++]!
          // Own ids are new by construction; only ids from outside need the dedup lookup.
          const dup = c < 0 && !p.due ? (index.get(d.id) ?? fresh.get(d.id)) : undefined
          if (dup !== undefined) {
            results.push({ id: d.id, ...(dup && { seq: dup }), duplicate: true })
            continue
          }
          if (hold > now) {
            held.push(d.id)
            fresh.set(d.id, 0)
            nextDue = Math.min(nextDue, hold)
            results.push({ id: d.id, duplicate: false })
            mutations.push({ type: 'set', key: `${seqKey(DELAYED, hold)}/${d.id}`, value: d })
            continue
          }
          d.seq = ++seq
          d.time = now
          events.push(d)
          ids.push(d.id)
          counters.push(c)
          results.push({ id: d.id, seq, duplicate: false })
          if (c < 0) fresh.set(d.id, seq)
          mutations.push({ type: 'set', key: seqKey(EVENTS, seq), value: d })
        }
        if (p.extra) {
          checks.push(...p.extra.checks)
          mutations.push(...p.extra.mutations)
        }
      }
      const record: IdRecord = {
        n: head.n + 1,
        t: now,
        s: head.seq + 1,
        ids,
        ...(held.length && { held }),
      }
      const adding = ids.length + held.length
      if (adding) {
        evict(now, adding)
        mutations.push({ type: 'set', key: seqKey(IDS, record.n), value: record })
      }
      // Retention: the last `events` events no older than `age`, unless a subscription needs them.
      // Now and then, re-read cursors anyway: a replay elsewhere can move one back.
      if (pinsStale || ++commits % 128 === 0) await loadPins()
      const cut = Math.min(
        Math.max(seq - o.retention.events + 1, ageCut(now - o.retention.age)),
        pinned(now),
      )
      if (cut > first)
        mutations.push({
          type: 'deleteRange',
          start: seqKey(EVENTS, first),
          end: seqKey(EVENTS, cut),
        })
      const next: Head = adding ? { seq, n: record.n } : head
      if (mutations.length) {
        mutations.push(...pruned)
        if (next !== head) mutations.push({ type: 'set', key: HEAD, value: next })
        const res = await store.commit({ checks, mutations })
        // Another writer got there first: learn what it wrote, then decide again.
        if (!res.ok) {
          await refresh()
          for (const p of batch)
            if (p.recheck && !(await p.recheck())) {
              p.drafts = []
              p.extra = undefined
            }
          continue
        }
        pruned = []
        if (next !== head) {
          head = next
          headVersion = res.version
        }
      }
      if (adding) index.add(record, counters)
      if (nextDue < Infinity) armDue(nextDue)
      for (const e of events) Object.freeze(e)
      if (cut > first) first = cut
      let i = 0
      for (const p of batch)
        p.resolve(p.single ? results[i++]! : p.drafts!.map(() => results[i++]!))
      if (events.length) o.onAppend(events as BusEvent[])
      return
    }
  }

  const run = async () => {
    try {
      await ready
      while (queued() || (foreign > head.seq && !retry)) {
        // A read can miss the commit it was woken for (it was in flight, or the store's reads lag
        // its notifications): read again at once, then after pauses 9 ms longer each time.
        if (foreign > head.seq && !retry) {
          await refresh()
          if (foreign > head.seq && tries++)
            retry = clock.setTimer(clock.now() + tries * 9, () => {
              retry = 0
              kick()
            })
        }
        const p = queue[qh]
        if (!p) continue
        if (p.failed) {
          qh++
          continue
        }
        if (!p.drafts) {
          await p.wait
          continue
        }
        const batch: Pending[] = []
        for (let n = 0, q; (q = queue[qh])?.drafts && n < MAX_BATCH;) {
          if (q.extra && batch.length) break
          // Ids are given here, in append order, so own counters follow seqs.
          q.counters = q.drafts.map((d) =>
            d.id ? -1 : ((d.id = ownId(prefix, ++counter)), counter),
          )
          batch.push(q)
          qh++
          n += q.drafts.length
          if (q.extra) break
        }
        if (qh > 1024 && qh * 2 > queue.length) {
          queue = queue.slice(qh)
          qh = 0
        }
        await commitBatch(batch).catch((e) => batch.forEach((p) => p.reject(e)))
      }
    } catch (e) {
      for (const p of queue.splice(qh)) p.reject(e)
    } finally {
      running = false
      if (queued()) kick()
      else for (const w of waiters.splice(0)) w()
    }
  }

  function kick() {
    if (running) return
    running = true
    queueMicrotask(run)
  }

  return {
    ready,
    get head() {
      return head.seq
    },
    /** Appends drafts (or a validation that yields them) in call order; resolves per draft. */
    append(
      drafts: Draft[] | Promise<Draft[]>,
      single: boolean,
      extra?: Extra,
      holds?: number[],
    ): Promise<any> {
      return new Promise((resolve, reject) => {
        const p: Pending = { drafts: undefined, wait: undefined, extra, single, resolve, reject }
        if (holds) p.holds = holds
        if (Array.isArray(drafts)) p.drafts = drafts
        else
          p.wait = drafts.then(
            (d) => {
              p.drafts = d
            },
            (e) => {
              p.failed = true
              reject(e)
            },
          )
        queue.push(p)
        kick()
      })
    },
    /** Events from `seq` on, oldest first. */
    async read(seq: number, limit: number): Promise<BusEvent[]> {
      await ready
      return values({ start: seqKey(EVENTS, seq), end: prefixEnd(EVENTS), limit })
    },
    /** Events before the key `end`, newest first. */
    async readBack(end: string, limit: number): Promise<BusEvent[]> {
      await ready
      return values({ start: EVENTS, end, limit, reverse: true })
    },
    /** Resolves once every append queued so far has settled. */
    idle(): Promise<void> {
      if (!running && !queued()) return ready
      return new Promise((r) => waiters.push(r))
    },
    // foreign = 0: a retry timer still armed finds nothing to read.
    close() {
      foreign = 0
      unwatch?.()
      unwatchSubs?.()
      unwatchDelayed?.()
      void delayed?.then((d) => d.stop())
    },
    track,
    enqueue,
    /** The seq an id was appended with, while the dedup index remembers it. */
    seqOf: (id: string): number | undefined => index.get(id) || undefined,
    /** Work in progress outside the queue, for a test clock's settling. */
    working: () => [...work],
    /** Drops a delayed event not yet due; its id stays remembered. */
    cancel: async (id: string): Promise<boolean> => {
      await ready
      return (await delays()).cancel(id)
    },
    /** Retention keeps what a subscription still needs: from its cursor on. */
    pin(name: string, cursor: number) {
      pins.set(name, { cursor, until: Infinity })
    },
    unpin(name: string) {
      pins.delete(name)
    },
  }
}
