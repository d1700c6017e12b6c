import type { Clock } from './clock.js'
import type { BusEvent } from './event.js'
import { prefixEnd, seqKey, type Check, type Mutation, type Store } from './store.js'

/** Key layout of the log: events by seq, the dedup index by id, the head. */
export const EVENTS = 'e/'
export const IDS = 'i/'
export const HEAD = 'm/head'
const MAX_BATCH = 1000

/** An event before the log gives it `seq` and `time`. */
export type Draft = Omit<BusEvent, 'seq' | 'time'>
/** What `publish` resolves. */
export interface Appended { id: string; seq: number; duplicate: boolean }
/** Extra checks and writes that must land in the same commit as an append (schedules). */
export interface Extra { checks: Check[]; mutations: Mutation[] }

interface Pending {
  drafts: Draft[] | undefined
  wait: Promise<unknown> | undefined
  extra: Extra | undefined
  resolve(r: Appended[]): void
  reject(e: unknown): void
}

export interface LogOptions {
  store: Store
  clock: Clock
  dedupe: { window: number; max: number }
  retention: { events: number; age: number }
  /** Lowest seq a durable subscription still needs (Infinity when none). */
  pinned(): number
  /** Called after each commit (own or another writer's) with the new events in seq order. */
  onAppend(events: BusEvent[]): void
}

/**
 * The append pipeline: group commit in call order, the in-memory head and dedup index guarded by
 * the commit's version checks, and retention piggybacked on appends. One batch costs one commit.
 */
export type Log = ReturnType<typeof createLog>

export const createLog = (o: LogOptions) => {
  const { store, clock } = o
  // id -> [seq, time], in append order, so the oldest are evicted first.
  const index = new Map<string, [number, number]>()
  const queue: Pending[] = []
  const waiters: (() => void)[] = []
  let head = 0
  let headVersion: string | null = null
  let first = 1
  let running = false
  let foreign = 0

  const ready = (async () => {
    const [h, ids, oldest] = await Promise.all([
      store.get(HEAD), store.list({ prefix: IDS }), store.list({ prefix: EVENTS, limit: 1 }),
    ])
    head = (h?.value as { seq: number } | undefined)?.seq ?? 0
    headVersion = h?.version ?? null
    const known = ids.map((e) => [e.key.slice(IDS.length), e.value as [number, number]] as const)
    for (const [id, v] of known.sort((a, b) => a[1][0] - b[1][0])) index.set(id, v)
    first = (oldest[0]?.value as BusEvent | undefined)?.seq ?? head + 1
  })()

  const unwatch = store.watch?.(EVENTS, (keys) => {
    for (const k of keys) foreign = Math.max(foreign, Number(k.slice(EVENTS.length)))
    if (foreign > head) kick()
  })

  /** Catches up with appends by another writer; false when the head had not moved. */
  const refresh = async (): Promise<boolean> => {
    const h = await store.get(HEAD)
    if (!h || h.version === headVersion) return false
    const to = (h.value as { seq: number }).seq
    const entries = await store.list({ start: seqKey(EVENTS, head + 1), end: seqKey(EVENTS, to + 1) })
    const events = entries.map((e) => e.value as BusEvent)
    for (const e of events) index.set(e.id, [e.seq, e.time])
    head = to
    headVersion = h.version
    if (events.length) o.onAppend(events)
    return true
  }

  const commitBatch = async (batch: Pending[]) => {
    for (;;) {
      const now = clock.now()
      const checks: Check[] = [{ key: HEAD, version: headVersion }]
      const mutations: Mutation[] = []
      const events: BusEvent[] = []
      const results: Appended[][] = []
      const fresh = new Map<string, Appended>()
      let seq = head
      for (const p of batch) {
        const r: Appended[] = []
        for (const d of p.drafts!) {
          const old = index.get(d.id)
          // An id past the window is forgotten: its stale entry is overwritten, not checked for.
          const live = old && old[1] >= now - o.dedupe.window
          const dup = live ? { id: d.id, seq: old[0], duplicate: true } : fresh.get(d.id)
          if (dup) { r.push(dup.duplicate ? dup : { ...dup, duplicate: true }); continue }
          const e = Object.freeze({ ...d, seq: ++seq, time: now }) as BusEvent
          events.push(e)
          fresh.set(d.id, { id: d.id, seq, duplicate: false })
          r.push(fresh.get(d.id)!)
          if (!old) checks.push({ key: IDS + d.id, version: null })
          mutations.push({ type: 'set', key: seqKey(EVENTS, seq), value: e }, { type: 'set', key: IDS + d.id, value: [seq, now] })
        }
        results.push(r)
        if (p.extra) { checks.push(...p.extra.checks); mutations.push(...p.extra.mutations) }
      }
      if (mutations.length === 0) return batch.forEach((p, i) => p.resolve(results[i]!))
      // Evict ids past the dedup window or size, oldest first.
      const evict: string[] = []
      const over = index.size + events.length - o.dedupe.max
      for (const [id, [, t]] of index) {
        if (evict.length >= over && t >= now - o.dedupe.window) break
        evict.push(id)
        if (!fresh.has(id)) mutations.push({ type: 'delete', key: IDS + id })
      }
      // Retention: the last `events` events no older than `age`, unless a subscription needs them.
      let cut = Math.max(seq - o.retention.events + 1, ageCut(now - o.retention.age))
      cut = Math.min(cut, o.pinned())
      if (cut > first) mutations.push({ type: 'deleteRange', start: seqKey(EVENTS, first), end: seqKey(EVENTS, cut) })
      if (seq > head) mutations.push({ type: 'set', key: HEAD, value: { seq } })
      let res
      try {
        res = await store.commit({ checks, mutations })
      } catch (e) {
        return batch.forEach((p) => p.reject(e))
      }
      if (!res.ok) {
        // Another writer got there first: learn what it wrote, then decide again.
        if (!(await refresh())) await learnIds(batch)
        continue
      }
      for (const id of evict) index.delete(id)
      for (const e of events) index.set(e.id, [e.seq, now])
      if (seq > head) { head = seq; headVersion = res.version }
      if (cut > first) first = cut
      batch.forEach((p, i) => p.resolve(results[i]!))
      if (events.length) o.onAppend(events)
      return
    }
  }

  /** Oldest seq younger than `cutoff`, looking at a bounded number of the oldest ids. */
  const ageCut = (cutoff: number): number => {
    let n = 0
    for (const [, [s, t]] of index) {
      // Nothing is known of events older than the oldest id, so only cut past ids seen to be old.
      if (t >= cutoff) return n ? s : 0
      if (++n >= 64) return s + 1
    }
    return index.size ? head + 1 : 0
  }

  /** An id check failed with the head unchanged: an id was stored aside (a delayed event). */
  const learnIds = async (batch: Pending[]) => {
    const ids = batch.flatMap((p) => p.drafts!.map((d) => d.id)).filter((id) => !index.has(id))
    const found = await Promise.all(ids.map((id) => store.get(IDS + id)))
    found.forEach((f, i) => f && index.set(ids[i]!, f.value as [number, number]))
  }

  const run = async () => {
    try {
      await ready
      while (queue.length || foreign > head) {
        if (foreign > head) { await refresh(); if (foreign > head) foreign = head }
        const p = queue[0]
        if (!p) continue
        if (!p.drafts) { await p.wait; continue }
        const batch: Pending[] = []
        for (let n = 0; queue[0]?.drafts && n < MAX_BATCH;) {
          if (queue[0].extra && batch.length) break
          const next = queue.shift()!
          batch.push(next)
          n += next.drafts!.length
          if (next.extra) break
        }
        await commitBatch(batch).catch((e) => batch.forEach((p) => p.reject(e)))
      }
    } catch (e) {
      for (const p of queue.splice(0)) p.reject(e)
    } finally {
      running = false
      if (queue.length) kick()
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
    get head() { return head },
    /** Appends drafts (or a validation that yields them) in call order; resolves per draft. */
    append(drafts: Draft[] | Promise<Draft[]>, extra?: Extra): Promise<Appended[]> {
      return new Promise((resolve, reject) => {
        const p: Pending = { drafts: undefined, wait: undefined, extra, resolve, reject }
        if (Array.isArray(drafts)) p.drafts = drafts
        else p.wait = drafts.then((d) => { p.drafts = d }, (e) => { queue.splice(queue.indexOf(p), 1); reject(e) })
        queue.push(p)
        kick()
      })
    },
    /** Events from `seq` on, oldest first. */
    async read(seq: number, limit: number): Promise<BusEvent[]> {
      await ready
      const entries = await store.list({ start: seqKey(EVENTS, seq), end: prefixEnd(EVENTS), limit })
      return entries.map((e) => e.value as BusEvent)
    },
    /** Resolves once every append queued so far has settled. */
    idle(): Promise<void> {
      if (!running && !queue.length) return ready
      return new Promise((r) => waiters.push(r))
    },
    close() { unwatch?.() },
  }
}
