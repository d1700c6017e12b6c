import { fail, TidingsError } from '../errors.js'
import { prefixEnd } from '../store/store.js'
import { checking, checkName, checkPoint } from './arguments.js'
import type { SubscriptionsCore } from './attached.js'
import type { Backlogs } from './backlog.js'
import { createDeadLetters, type DeadLetters } from './dead-letters.js'
import { keys, statePrefixes, type SubRecord } from './record.js'
import { startAt } from './start-point.js'

/** The admin operations of the bus over stored subscriptions (see `Bus` for each). */
export interface SubscriptionsAdmin {
  subscriptions(): Promise<{ name: string; pattern: string; attached: boolean; lag: number }[]>
  deleteSubscription(name: string): Promise<boolean>
  replay(name: string, point: { seq: number } | { time: number }): Promise<void>
  deadLetters: DeadLetters
  stats(): Promise<
    {
      name: string
      lag: number
      inFlight: number
      retrying: number
      deadLetters: number
      oldestAge: number
    }[]
  >
}

/**
 * Listing, deleting, replaying and the dead letters of subscriptions, over the store: they work
 * whichever bus runs the subscription (a changed record makes that bus reload).
 *
 * @example
 * const admin = createAdmin(core, backlogs, leases.reclaim)
 * await admin.replay('mailer', { seq: 0 })
 */
export const createAdmin = (
  core: SubscriptionsCore,
  backlogs: Backlogs,
  reclaim: (name: string) => Promise<void>,
): SubscriptionsAdmin => {
  const { base, attached } = core
  const { store, clock, log } = base

  const drop = async (name: string) => {
    const existed = !!(await store.get(keys.sub(name)))
    await store.commit({
      mutations: [
        { type: 'delete', key: keys.sub(name) },
        ...statePrefixes(name).map((prefix) => ({
          type: 'deleteRange' as const,
          start: prefix,
          end: prefixEnd(prefix),
        })),
      ],
    })
    base.unpin(name)
    return existed
  }

  /** Deletes subscriptions with no handler attached for `expireAfter`, so they stop pinning retention. */
  const expire = async (records: SubRecord[]) => {
    const now = clock.now()
    const old = records.filter(
      (record) =>
        !(record.lease && record.lease.until > now) &&
        (record.detached ?? record.lease?.until ?? record.created) < now - core.expireAfter,
    )
    for (const record of old) await drop(record.name)
    return records.filter((record) => !old.includes(record))
  }

  const all = async () =>
    expire((await store.list({ prefix: 's/' })).map((entry) => entry.value as SubRecord))

  return {
    async subscriptions() {
      const now = clock.now()
      return Promise.all(
        (await all()).map(async (record) => ({
          name: record.name,
          pattern: record.pattern,
          attached: !!(record.lease && record.lease.until > now),
          lag:
            attached.get(record.name)?.runner?.stats().lag ??
            (await backlogs.detachedLag(record)).lag,
        })),
      )
    },

    async deleteSubscription(name) {
      checkName(name)
      const entry = attached.get(name)
      if (entry) {
        attached.delete(name)
        clock.clearTimer(entry.timer)
        entry.runner?.stop(new TidingsError('CLOSED', `subscription "${name}" deleted`))
      }
      return drop(name)
    },

    async replay(name, point) {
      checking(() => {
        checkName(name)
        checkPoint(point)
      })
      const seq = await startAt(log, point)
      for (;;) {
        const got = await core.read(name)
        if (!got) return fail('INVALID_OPTIONS', `no subscription "${name}"`)
        // What ran before the point is replayed, not counted as died.
        const record: SubRecord = {
          ...got.record,
          cursor: seq,
          ...(got.record.delivering && {
            delivering: { owner: got.record.delivering.owner, seqs: [] },
          }),
        }
        const result = await store.commit({
          checks: [{ key: keys.sub(name), version: got.version }],
          mutations: [
            { type: 'set', key: keys.sub(name), value: record },
            // An explicit replay handles again what the ledger remembers.
            ...['a', 'r', 'l'].map((prefix) => ({
              type: 'deleteRange' as const,
              start: `${prefix}/${name}/`,
              end: prefixEnd(`${prefix}/${name}/`),
            })),
          ],
        })
        if (!result.ok) continue
        base.pin(name, seq)
        const runner = attached.get(name)?.runner
        if (runner) await runner.adopt(record, result.version)
        return
      }
    },

    deadLetters: createDeadLetters(core, reclaim),

    async stats() {
      const now = clock.now()
      return Promise.all(
        (await all()).map(async (record) => {
          const runner = attached.get(record.name)?.runner
          const [retries, dead, waiting] = await Promise.all([
            store.list({ prefix: `r/${record.name}/` }),
            store.list({ prefix: `x/${record.name}/` }),
            runner ? undefined : backlogs.detachedLag(record),
          ])
          const stats = runner?.stats() ?? {
            inFlight: 0,
            retrying: retries.length,
            lag: waiting!.lag,
            oldest: waiting!.oldest,
          }
          return {
            name: record.name,
            lag: stats.lag,
            inFlight: stats.inFlight,
            retrying: stats.retrying,
            deadLetters: dead.length,
            oldestAge: stats.oldest === undefined ? 0 : now - stats.oldest,
          }
        }),
      )
    },
  }
}
