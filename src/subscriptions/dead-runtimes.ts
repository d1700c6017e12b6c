import type { BusEvent } from '../event.js'
import { keys } from '../store/keys.js'
import { eventAt } from '../log/event-at.js'
import type { Mutation, Store } from '../store/store.js'
import type { DeadLetter } from './runner.js'
import type { SubRecord } from './subscriptions.js'

/** One attempt a runtime had running when it died: the latest attempt per subscription and seq. */
export interface DeadRuntimeAttempt {
  subscription: string
  seq: number
  attempt: number
}

/**
 * Counts attempts a dead runtime had running without an outcome as failed: each becomes a retry
 * due now or, at the subscription's last attempt, a dead letter carrying `errorOf`'s error.
 * Attempts whose outcome did land (acked, retried past, dead) are left. One commit; returns the
 * number of records written. For a host that journals its own deliveries (the Cloudflare object),
 * which leaves the count to itself with `leaveDeadRuntimesToHost(store)`.
 *
 * @example
 * await countDeadRuntimeAttempts(store, journal.previous(), (sub) => attempts[sub], Date.now(), (name, seq, n) => new Error('died'))
 */
export const countDeadRuntimeAttempts = async (
  store: Store,
  attempts: Iterable<DeadRuntimeAttempt>,
  attemptsOf: (subscription: string) => number | undefined,
  now: number,
  errorOf: (subscription: string, seq: number, attempt: number) => Error,
): Promise<number> => {
  const mutations: Mutation[] = []
  for (const { subscription: name, seq, attempt } of attempts) {
    const allowed = attemptsOf(name)
    const sub = (await store.get(keys.sub(name)))?.value as SubRecord | undefined
    if (allowed === undefined || !sub) continue
    if (await store.get(keys.dead(name, seq))) continue
    const retry = (await store.get(keys.retry(name, seq)))?.value as
      { attempt: number; event?: BusEvent } | undefined
    if (retry && retry.attempt >= attempt) continue
    // Below the cursor only a redriven event (a retry record carrying it) is still owed.
    if (seq < sub.cursor ? !retry?.event : await store.get(keys.ack(name, seq))) continue
    const error = errorOf(name, seq, attempt)
    const wire = { name: error.name, message: error.message }
    if (attempt >= allowed) {
      const event = retry?.event ?? (await eventAt(store, seq))
      if (!event) continue
      const dead: DeadLetter = {
        id: `${name}/${seq}`,
        subscription: name,
        event,
        error: wire,
        attempts: attempt,
        failedAt: now,
      }
      mutations.push({ type: 'set', key: keys.dead(name, seq), value: dead })
      if (retry) mutations.push({ type: 'delete', key: keys.retry(name, seq) })
    } else {
      mutations.push({
        type: 'set',
        key: keys.retry(name, seq),
        value: { attempt, due: now, error: wire, ...(retry?.event ? { event: retry.event } : {}) },
      })
    }
  }
  if (mutations.length) await store.commit({ mutations })
  return mutations.length
}
