import type { Store } from '../../src/index.js'
import { countDeadRuntimeAttempts } from '../../src/internal.js'
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
  const latest = new Map<string, Claimed>()
  for (const c of claimed) {
    const k = `${c.subscription}/${c.seq}`
    if ((latest.get(k)?.attempt ?? 0) < c.attempt) latest.set(k, c)
  }
  return countDeadRuntimeAttempts(store, latest.values(), attemptsOf, now, (name, seq, attempt) =>
    runtimeDied(name, seq, attempt, 'the object restarted with it in flight'),
  )
}
