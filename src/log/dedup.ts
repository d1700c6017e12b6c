import { ID_COUNTER } from '../event.js'

/**
 * One commit's share of the dedup index, stored as one record (`i/<n>`) rather than a key per id:
 * `ids[i]` was appended with seq `s + i`; `held` are ids of delayed events stored aside, not yet
 * appended (seq 0 in the index). A commit adds at most one record.
 */
export interface IdRecord {
  n: number
  t: number
  s: number
  ids: string[]
  held?: string[]
}

interface Held {
  r: IdRecord
  foreign: string[]
  /** Where `foreign`'s held ids start (they come after the appended ones). */
  heldAt: number
  top: number
}

/** The in-memory dedup index of a log (see {@link createIdIndex}). */
export interface IdIndex {
  /** The seq an id was appended with, or undefined when it is not remembered. */
  get(id: string): number | undefined
  /** Remembers a record; `counters[i]` is the own counter of `ids[i]` (-1: not ours), parsed when absent. */
  add(record: IdRecord, counters?: number[]): void
  /** The records, oldest first. */
  oldest(): Generator<IdRecord>
  readonly count: number
  /** Drops the oldest record and returns it. */
  evict(): IdRecord
}

/**
 * The in-memory dedup index. Ids this bus made (its prefix plus a counter) live in a dense array
 * by counter: they arrive in order, and a Map of 100,000 strings costs far more per publish.
 * Every other id lives in a Map. Records are evicted whole, oldest first.
 */
export const createIdIndex = (own: string): IdIndex => {
  const byId = new Map<string, number>()
  // ownSeqs[c - ownBase] is the seq of own counter c; entries below `dropped` are forgotten.
  let ownSeqs: number[] = []
  let ownBase = 0
  let dropped = 0
  let held: Held[] = []
  let heldHead = 0
  let count = 0
  const counter = (id: string): number =>
    id.length === own.length + ID_COUNTER && id.startsWith(own)
      ? parseInt(id.slice(own.length), 36)
      : -1

  return {
    /** The seq an id was appended with, or undefined when it is not remembered. */
    get(id: string): number | undefined {
      const c = counter(id)
      return c >= ownBase + dropped ? ownSeqs[c - ownBase] : byId.get(id)
    },
    /** Remembers a record; `counters[i]` is the own counter of `ids[i]` (-1: not ours), parsed when absent. */
    add(r: IdRecord, counters?: number[]): void {
      const h: Held = { r, foreign: [], heldAt: 0, top: -1 }
      const put = (id: string, seq: number, known: number | undefined) => {
        const c = known !== undefined && known >= 0 ? known : counter(id)
        if (c >= 0 && ownSeqs.length === dropped) {
          ownSeqs = []
          ownBase = c
          dropped = 0
        }
        if (c >= ownBase + dropped) {
          ownSeqs[c - ownBase] = seq
          h.top = Math.max(h.top, c)
        } else {
          byId.set(id, seq)
          h.foreign.push(id)
        }
      }
      r.ids.forEach((id, i) => put(id, r.s + i, counters?.[i]))
      h.heldAt = h.foreign.length
      r.held?.forEach((id) => put(id, 0, undefined))
      held.push(h)
      count += r.ids.length + (r.held?.length ?? 0)
    },
    /** The records, oldest first. */
    *oldest(): Generator<IdRecord> {
      for (let i = heldHead; i < held.length; i++) yield held[i]!.r
    },
    get count() {
      return count
    },
    /** Drops the oldest record and returns it. */
    evict(): IdRecord {
      const h = held[heldHead]!
      held[heldHead++] = undefined!
      count -= h.r.ids.length + (h.r.held?.length ?? 0)
      // A held id appended since is a newer record's (its seq is no longer 0): it stays.
      h.foreign.forEach((id, i) => (i < h.heldAt || byId.get(id) === 0) && byId.delete(id))
      // Own counters grow in append order: everything up to this record's last one goes.
      if (h.top - ownBase + 1 > dropped) dropped = h.top - ownBase + 1
      if (dropped > 4096 && dropped * 2 > ownSeqs.length) {
        ownSeqs = ownSeqs.slice(dropped)
        ownBase += dropped
        dropped = 0
      }
      if (heldHead > 64 && heldHead * 2 > held.length) {
        held = held.slice(heldHead)
        heldHead = 0
      }
      return h.r
    },
  }
}
