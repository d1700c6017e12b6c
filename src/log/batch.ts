import { ownId } from '../event.js'
import type { Check, Mutation } from '../store/store.js'
import { keys } from '../store/keys.js'
import type { IdIndex } from './dedup.js'
import type { Appended, Draft, Pending } from './pending.js'

/** What one batch writes besides its segment, before dedup eviction, retention and the head are added. */
export interface FormedBatch {
  mutations: Mutation[]
  checks: Check[]
  /** The drafts given seqs, in seq order. */
  events: Draft[]
  /** Their ids, and per id its own counter (-1: not ours). */
  ids: string[]
  counters: number[]
  /** Ids of delayed events held aside. */
  held: string[]
  /** Per draft, in queue order: what its append resolves. */
  results: Appended[]
  /** The last seq given. */
  seq: number
  /** The earliest due time of the held events (Infinity: none). */
  nextDue: number
}

/**
 * Forms one commit of a batch of pendings: gives each new draft the next seq and `now` as its time,
 * holds delayed ones aside, and answers duplicates from the dedup index (own ids are new by
 * construction; only ids from outside are looked up).
 *
 * @example
 * const formed = formBatch(batch, index, head.seq, clock.now())
 */
export const formBatch = (
  batch: Pending[],
  index: IdIndex,
  lastSeq: number,
  now: number,
): FormedBatch => {
  const formed: FormedBatch = {
    mutations: [],
    checks: [],
    events: [],
    ids: [],
    counters: [],
    held: [],
    results: [],
    seq: lastSeq,
    nextDue: Infinity,
  }
  const { mutations, checks, events, ids, counters, held, results } = formed
  const fresh = new Map<string, number>()
  let seq = lastSeq
  for (const p of batch) {
    let j = 0
    for (const d of p.drafts!) {
      const hold = p.holds?.[j] ?? 0
      const c = p.counters![j++]!
      const dup = c < 0 && !p.due ? (index.get(d.id) ?? fresh.get(d.id)) : undefined
      if (dup !== undefined) {
        results.push({ id: d.id, ...(dup && { seq: dup }), duplicate: true })
        continue
      }
      if (hold > now) {
        held.push(d.id)
        fresh.set(d.id, 0)
        formed.nextDue = Math.min(formed.nextDue, hold)
        results.push({ id: d.id, duplicate: false })
        mutations.push({ type: 'set', key: keys.delayed(hold, d.id), value: d })
        continue
      }
      d.seq = ++seq
      d.time = now
      events.push(d)
      ids.push(d.id)
      counters.push(c)
      results.push({ id: d.id, seq, duplicate: false })
      if (c < 0) fresh.set(d.id, seq)
    }
    if (p.extra) {
      checks.push(...p.extra.checks)
      mutations.push(...p.extra.mutations)
    }
  }
  formed.seq = seq
  return formed
}

/** The most drafts one commit takes. */
const MAX_BATCH = 1000

/**
 * Takes the next batch off the queue from `queueHead`: pendings whose drafts are ready, up to
 * {@link MAX_BATCH} drafts; a pending with extra checks and writes goes alone. Gives own ids here,
 * in append order, so own counters follow seqs. `own` holds this bus's id prefix and its last counter. Returns the batch and the new queue head.
 *
 * @example
 * const own = { prefix: idPrefix(clock.now()), counter: 0 }
 * const [batch, next] = takeBatch(queue, queueHead, own)
 */
export const takeBatch = (
  queue: Pending[],
  queueHead: number,
  own: { prefix: string; counter: number },
): [Pending[], number] => {
  const batch: Pending[] = []
  for (let n = 0, q; (q = queue[queueHead])?.drafts && n < MAX_BATCH;) {
    if (q.extra && batch.length) break
    q.counters = q.drafts.map((d) =>
      d.id ? -1 : ((d.id = ownId(own.prefix, ++own.counter)), own.counter),
    )
    batch.push(q)
    queueHead++
    n += q.drafts.length
    if (q.extra) break
  }
  return [batch, queueHead]
}
