import { keys, type DeadLetter } from '../../src/subscriptions/runner.js'
import type { BusEvent } from '../../src/event.js'
import { EVENTS } from '../../src/log/log.js'
import { seqKey, type Mutation, type Store } from '../../src/store/store.js'
import type { SubRecord } from '../../src/subscriptions/subscriptions.js'
import { runtimeDied, type Claimed } from './_delivery.js'

const TABLE = 'tidings_claims'

/**
 * @internal The journal of deliveries a Worker took from this object and has not answered yet, one
 * row per incarnation of the object (rewritten on each claim RPC, never on the happy path's acks).
 * When the object starts, the rows of earlier incarnations name the attempts that were running when
 * they died: {@link countDeadRuntimes} counts each as a failed attempt, so an event that kills its
 * runtime every time ends in dead letters after `retry.attempts` deliveries.
 *
 * @example
 * const journal = claimJournal(ctx.storage)
 * await countDeadRuntimes(store, journal.previous(), attemptsOf, now)
 * journal.forgetPrevious()
 */
export const claimJournal = (storage: DurableObjectStorage) => {
  const sql = storage.sql
  sql.exec(
    `CREATE TABLE IF NOT EXISTS ${TABLE} (incarnation TEXT PRIMARY KEY, claimed TEXT NOT NULL)`,
  )
  const incarnation = crypto.randomUUID()
  return {
    incarnation,
    /** What this incarnation has out (synchronous: the claim RPC answers only once it is stored). */
    write(claimed: Claimed[]) {
      sql.exec(
        `INSERT OR REPLACE INTO ${TABLE} (incarnation, claimed) VALUES (?, ?)`,
        incarnation,
        JSON.stringify(claimed),
      )
    },
    /** What earlier incarnations had out when they stopped. */
    previous(): Claimed[] {
      return sql
        .exec<{ claimed: string }>(
          `SELECT claimed FROM ${TABLE} WHERE incarnation != ?`,
          incarnation,
        )
        .toArray()
        .flatMap((r) => JSON.parse(r.claimed) as Claimed[])
    },
    forgetPrevious() {
      sql.exec(`DELETE FROM ${TABLE} WHERE incarnation != ?`, incarnation)
    },
  }
}

/**
 * @internal Counts the attempts an earlier incarnation had running without an outcome: each becomes
 * a retry due now (re-sent as soon as the bus starts) or, at the subscription's last attempt, a dead
 * letter saying the runtime died. Attempts whose outcome did land (acked, retried, dead) are left.
 * Written in one commit before the bus loads its subscriptions.
 *
 * @example
 * await countDeadRuntimes(store, journal.previous(), (sub) => subscriptions[sub]?.retry?.attempts ?? 5, Date.now())
 */
export const countDeadRuntimes = async (
  store: Store,
  claimed: readonly Claimed[],
  attemptsOf: (subscription: string) => number | undefined,
  now: number,
): Promise<number> => {
  const mutations: Mutation[] = []
  const latest = new Map<string, Claimed>()
  for (const c of claimed) {
    const k = `${c.subscription}/${c.seq}`
    if ((latest.get(k)?.attempt ?? 0) < c.attempt) latest.set(k, c)
  }
  for (const { subscription: name, seq, attempt } of latest.values()) {
    const attempts = attemptsOf(name)
    const sub = (await store.get(keys.sub(name)))?.value as SubRecord | undefined
    if (attempts === undefined || !sub) continue
    if (await store.get(keys.dead(name, seq))) continue
    const retry = (await store.get(keys.retry(name, seq)))?.value as
      { attempt: number; event?: BusEvent } | undefined
    if (retry && retry.attempt >= attempt) continue
    // Below the cursor only a redriven event (a retry record carrying it) is still owed.
    if (seq < sub.cursor ? !retry?.event : await store.get(keys.ack(name, seq))) continue
    const error = runtimeDied(name, seq, attempt, 'the object restarted with it in flight')
    const wire = { name: error.name, message: error.message }
    if (attempt >= attempts) {
      const event =
        retry?.event ?? ((await store.get(seqKey(EVENTS, seq)))?.value as BusEvent | undefined)
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
