import type { BusEvent } from '../event.js'
import type { ListOptions, Mutation } from '../store/store.js'
import { HEAD, PREFIX, prefixEnd, seqKey } from '../store/keys.js'
import type { IdRecord } from './dedup.js'
import { formBatch } from './batch.js'
import type { Pending } from './pending.js'
import { ageCut } from './retention.js'
import type { Head, LogState } from './state.js'

const EVENTS = PREFIX.events
const IDS = PREFIX.dedup

/**
 * The values of the entries a listing finds.
 *
 * @example
 * const events = await listValues<BusEvent>(state, { prefix: PREFIX.events })
 */
export const listValues = async <T>(state: LogState, o: ListOptions): Promise<T[]> =>
  (await state.options.store.list(o)).map((e) => e.value as T)

/**
 * The dedup records numbered `from` to `to` (to the last one when absent).
 *
 * @example
 * for (const record of await dedupRecords(state, 0)) state.index.add(record)
 */
export const dedupRecords = (state: LogState, from: number, to?: number): Promise<IdRecord[]> =>
  listValues<IdRecord>(state, {
    start: seqKey(IDS, from),
    end: to === undefined ? prefixEnd(IDS) : seqKey(IDS, to + 1),
  })

/**
 * Catches up with what another writer committed: its dedup records, then its events.
 *
 * @example
 * await refresh(state)
 */
export const refresh = async (state: LogState): Promise<void> => {
  const h = await state.options.store.get(HEAD)
  if (!h || h.version === state.headVersion) return
  const to = h.value as Head
  for (const r of await dedupRecords(state, state.head.n + 1, to.n)) state.index.add(r)
  const events = await listValues<BusEvent>(state, {
    start: seqKey(EVENTS, state.head.seq + 1),
    end: seqKey(EVENTS, to.seq + 1),
  })
  state.head = to
  state.headVersion = h.version
  if (events.length) state.options.onAppend(events)
}

/** Evicts dedup records past the window or the size bound, oldest first, and queues their deletes. */
const evict = (state: LogState, now: number, adding: number) => {
  const { index, options, pruned } = state
  for (const r of index.oldest()) {
    if (r.t >= now - options.dedupe.window && index.count + adding <= options.dedupe.max) break
    pruned.push({ type: 'delete', key: seqKey(IDS, index.evict().n) })
  }
}

/**
 * Commits one batch: its events, one dedup record, the head, and any pruning, checked against the
 * head's version. Only after the commit lands do the head, the index and the oldest seq move.
 * When another writer got there first, learns what it wrote, re-checks, and forms the batch again.
 *
 * @example
 * await commitBatch(state, batch)
 */
export const commitBatch = async (state: LogState, batch: Pending[]): Promise<void> => {
  const { options, index, pins } = state
  for (;;) {
    const now = options.clock.now()
    evict(state, now, 0)
    const head = state.head
    const { mutations, checks, events, ids, counters, held, results, seq, nextDue } = formBatch(
      batch,
      index,
      head.seq,
      now,
    )
    checks.unshift({ key: HEAD, version: state.headVersion })
    const record: IdRecord = {
      n: head.n + 1,
      t: now,
      s: head.seq + 1,
      ids,
      ...(held.length && { held }),
    }
    const adding = ids.length + held.length
    if (adding) {
      evict(state, now, adding)
      mutations.push({ type: 'set', key: seqKey(IDS, record.n), value: record })
    }
    // Retention: the last `events` events no older than `age`, unless a subscription needs them.
    // Now and then, re-read cursors anyway: a replay elsewhere can move one back.
    if (pins.stale || ++state.commits % 128 === 0) await pins.load()
    const cut = Math.min(
      Math.max(seq - options.retention.events + 1, ageCut(index, now - options.retention.age)),
      pins.lowest(now),
    )
    if (cut > state.firstSeq)
      mutations.push({
        type: 'deleteRange',
        start: seqKey(EVENTS, state.firstSeq),
        end: seqKey(EVENTS, cut),
      })
    const next: Head = adding ? { seq, n: record.n } : head
    if (mutations.length) {
      mutations.push(...state.pruned)
      if (next !== head) mutations.push({ type: 'set', key: HEAD, value: next })
      const res = await options.store.commit({ checks, mutations })
      // Another writer got there first: learn what it wrote, then decide again.
      if (!res.ok) {
        await refresh(state)
        for (const p of batch)
          if (p.recheck && !(await p.recheck())) {
            p.drafts = []
            p.extra = undefined
          }
        continue
      }
      state.pruned = []
      if (next !== head) {
        state.head = next
        state.headVersion = res.version
      }
    }
    if (adding) index.add(record, counters)
    if (nextDue < Infinity) state.armDue(nextDue)
    for (const e of events) Object.freeze(e)
    if (cut > state.firstSeq) state.firstSeq = cut
    let i = 0
    for (const p of batch) p.resolve(p.single ? results[i++]! : p.drafts!.map(() => results[i++]!))
    if (events.length) options.onAppend(events as BusEvent[])
    return
  }
}
