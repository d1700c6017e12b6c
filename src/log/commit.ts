import type { BusEvent } from '../event.js'
import { HEAD, keys } from '../store/keys.js'
import type { IdRecord } from './dedup.js'
import { formBatch } from './batch.js'
import type { Pending } from './pending.js'
import { ageCut } from './retention.js'
import type { LogState, Pruning } from './state.js'

/** The most events one segment holds: a bigger batch is several segments of one commit. */
const SEGMENT = 128

/**
 * Evicts dedup records past the window or the size bound, oldest first, and queues the deletes of
 * the stored ones (a dedup record kept for several deleted segments goes with the last of them).
 */
const evict = (state: LogState, now: number, adding: number) => {
  const { index, options, pruned } = state
  for (const r of index.oldest()) {
    if (r.t >= now - options.dedupe.window && index.count + adding <= options.dedupe.max) break
    const n = index.evict().n
    if (n && index.oldest().next().value?.n !== n)
      pruned.push({ type: 'delete', key: keys.dedup(n) })
  }
}

/**
 * Commits one batch: its events as one segment (several past SEGMENT events), a dedup record for
 * held ids, and any pruning, checked against the head's version and the absence of the first
 * segment's key. Only after the commit lands do the head, the index and the oldest seq move. When
 * another writer got there first, learns what it wrote, re-checks, and forms the batch again.
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
    let n = head.n
    const first = head.seq + 1
    const heldIds: IdRecord | undefined = held.length
      ? { n: ++n, t: now, s: first, ids: [], held }
      : undefined
    if (ids.length + held.length) evict(state, now, ids.length + held.length)
    // The key the first segment takes must still be free: a writer that got there first gave out its seqs.
    if (events.length) checks.push({ key: keys.event(first), version: null })
    // Segments of at most SEGMENT events, so that reading a page never decodes a whole burst.
    for (let at = 0; at < events.length; at += SEGMENT) {
      const part = events.length > SEGMENT ? events.slice(at, at + SEGMENT) : events
      mutations.push({
        type: 'set',
        key: keys.event(first + at),
        value: { seq: first + at, t: now, events: part },
      })
    }
    if (heldIds) mutations.push({ type: 'set', key: keys.dedup(heldIds.n), value: heldIds })
    // Retention: the last `events` events no older than `age`, unless a subscription needs them.
    // Now and then, re-read cursors anyway: a replay elsewhere can move one back.
    if (pins.stale || ++state.commits % 128 === 0) await pins.load()
    const cut = Math.min(
      Math.max(seq - options.retention.events + 1, ageCut(index, now - options.retention.age)),
      pins.lowest(now),
    )
    // Reads start at the cut; stored segments go in runs, each moving its ids' dedup records.
    let pruning: Pruning | undefined
    if (cut - state.storedFrom >= Math.max(1, options.retention.events >> 4)) {
      pruning = await (await state.segments()).prune(state, cut, n)
      if (pruning) {
        mutations.push(...pruning.mutations)
        n = pruning.n
      }
    }
    if (mutations.length) {
      mutations.push(...state.pruned)
      // Deleting segments moves the head too: a writer that missed them fails its check on it.
      if (n !== head.n || pruning) mutations.push({ type: 'set', key: HEAD, value: { seq, n } })
      const res = await options.store.commit({ checks, mutations })
      // Another writer got there first: learn what it wrote, then decide again.
      if (!res.ok) {
        await (await state.segments()).refresh(state)
        for (const p of batch)
          if (p.recheck && !(await p.recheck())) {
            p.drafts = []
            p.extra = undefined
          }
        continue
      }
      state.pruned = []
      if (n !== head.n || pruning) state.headVersion = res.version
    }
    if (seq !== head.seq || n !== head.n) state.head = { seq, n }
    for (let at = 0; at < ids.length; at += SEGMENT)
      index.add(
        ids.length > SEGMENT
          ? { n: 0, t: now, s: first + at, ids: ids.slice(at, at + SEGMENT) }
          : { n: 0, t: now, s: first, ids },
        ids.length > SEGMENT ? counters.slice(at, at + SEGMENT) : counters,
      )
    if (heldIds) index.add(heldIds)
    if (pruning) {
      pruning.landed()
      state.storedFrom = pruning.storedFrom
    }
    if (nextDue < Infinity) state.armDue(nextDue)
    for (const e of events) Object.freeze(e)
    if (cut > state.firstSeq) state.firstSeq = cut
    let i = 0
    for (const p of batch) p.resolve(p.single ? results[i++]! : p.drafts!.map(() => results[i++]!))
    if (events.length) options.onAppend(events as BusEvent[])
    return
  }
}
