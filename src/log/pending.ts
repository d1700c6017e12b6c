import type { BusEvent } from '../event.js'
import type { Check, Mutation } from '../store/store.js'

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

/**
 * One append waiting in the log's queue. Its optional fields encode where it is:
 *
 * | state      | fields                                   | the run loop                          |
 * |------------|------------------------------------------|---------------------------------------|
 * | validating | `drafts` undefined, `wait` pending       | waits on `wait`                        |
 * | failed     | `failed` true (the append already rejected) | skips it                           |
 * | ready      | `drafts` set, `counters` undefined       | takes it into a batch (`takeBatch`)    |
 * | in a batch | `drafts` and `counters` set              | commits it; `resolve`/`reject` settle |
 *
 * `wait` sets `drafts` (ready) or `failed` when it settles. Built by others (schedule ticks,
 * due delayed events) a pending arrives ready, or sets its drafts before `enqueue`; after a failed
 * check, `recheck` may empty `drafts` (nothing left to write). Not a tagged union on purpose: the
 * object moves between states in place, on the publish hot path, and one shape for every state
 * keeps it cheap.
 *
 * @example
 * const pending: Pending = { drafts, wait: undefined, extra: undefined, single: true, resolve, reject }
 */
export interface Pending {
  /** Drafts with an empty id get one of the bus's own ids when they reach the log. */
  drafts: Draft[] | undefined
  /** Per draft: -1 for an id from outside, else the own id's counter (set when the batch forms). */
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
  resolve(result: Appended | Appended[]): void
  reject(error: unknown): void
}

/**
 * A pending for drafts that are ready, or for a validation that yields them: until it settles the
 * pending waits on it, and when it throws the pending is marked failed (the run loop skips it) and
 * the append rejects.
 *
 * @example
 * const pending = createPending(drafts, true, undefined, undefined, resolve, reject)
 */
export const createPending = (
  drafts: Draft[] | Promise<Draft[]>,
  single: boolean,
  extra: Extra | undefined,
  holds: number[] | undefined,
  resolve: (result: any) => void,
  reject: (error: unknown) => void,
): Pending => {
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
  return p
}
