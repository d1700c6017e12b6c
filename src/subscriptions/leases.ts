import { fail, TidingsError } from '../errors.js'
import type { Attached, SubscriptionsCore } from './attached.js'
import { keys, type SubRecord } from './record.js'
import { recover } from './recovery.js'

/** Taking, renewing and reclaiming the leases of the subscriptions attached on this bus. */
export interface Leases {
  /** Takes the lease when it is free or lapsed, then runs; otherwise waits for it on a timer (and watch). */
  acquire(name: string): Promise<void>
  /** A commit on the subscription failed its check: adopt the new record if the lease is still ours. */
  reclaim(name: string): Promise<void>
  /** Stops watching the store for other buses' changes. */
  unwatch: (() => void) | undefined
}

/**
 * Leases over the store: one bus at a time runs a subscription; a bus that dies leaves its lease
 * to lapse, and what it had running is counted by the taker (see `recover`).
 *
 * @example
 * const leases = createLeases(core)
 * await leases.acquire('mailer')
 */
export const createLeases = (core: SubscriptionsCore): Leases => {
  const { base, attached } = core
  const { store, clock, log } = base

  const acquire = (name: string): Promise<void> => {
    const entry = attached.get(name)
    if (!entry || entry.runner || core.closed) return Promise.resolve()
    // One attempt at a time per name: a watch notification may race the subscribe that caused it.
    return (entry.acquiring ??= take(name, entry).finally(() => {
      delete entry.acquiring
    }))
  }

  const take = async (name: string, entry: Attached): Promise<void> => {
    const got = await core.read(name)
    if (!got) return fail('CLOSED', `subscription "${name}" was deleted`)
    const now = clock.now()
    const lease = got.record.lease
    if (lease && lease.owner !== base.owner && lease.until > now) {
      clock.clearTimer(entry.timer)
      entry.timer = clock.setTimer(lease.until, () => void acquire(name).catch(() => {}))
      return
    }
    const record: SubRecord = {
      ...got.record,
      lease: { owner: base.owner, until: now + core.leaseMs },
      delivering: { owner: base.owner, seqs: [] },
    }
    delete record.detached
    if (!entry.countDeadRuntimes) delete record.delivering
    // A holder that let go without releasing (killed, evicted, dropped) left what it had running:
    // each of those deliveries counts, in this same commit.
    const left = got.record.delivering
    const found =
      entry.countDeadRuntimes && left && left.owner !== base.owner
        ? await recover(store, log, name, got.record.cursor, left, entry, now)
        : undefined
    if (found)
      record.delivering = {
        owner: base.owner,
        seqs: [],
        careful: true,
        ...(found.recovery.blame && { blame: found.recovery.blame }),
      }
    const result = await store.commit({
      checks: [{ key: keys.sub(name), version: got.version }],
      mutations: [...(found?.mutations ?? []), { type: 'set', key: keys.sub(name), value: record }],
    })
    if (!result.ok) return take(name, entry)
    for (const letter of found?.dead ?? [])
      base.onError(Object.assign(new Error(letter.error.message), { name: letter.error.name }), {
        event: letter.event,
        subscription: name,
      })
    if (attached.get(name) !== entry) {
      // Closed while taking it: hand the lease back at once rather than let it lapse.
      const back: SubRecord = { ...record, detached: clock.now() }
      delete back.lease
      delete back.delivering
      await store.commit({
        checks: [{ key: keys.sub(name), version: result.version }],
        mutations: [{ type: 'set', key: keys.sub(name), value: back }],
      })
      return
    }
    const runner = entry.make(record, result.version, found?.recovery)
    entry.runner = runner
    base.pin(name, record.cursor)
    await runner.load()
    runner.pump()
    renew(name)
  }

  const renew = (name: string) => {
    const entry = attached.get(name)
    const runner = entry?.runner
    if (!entry || !runner) return
    // The wait for another bus's lease may still be armed: one timer per name, so close() clears all.
    clock.clearTimer(entry.timer)
    entry.timer = clock.setTimer(clock.now() + core.leaseMs / 3, () => {
      // The runner may have been replaced or dropped since (takeover, deletion, close).
      if (attached.get(name) !== entry || entry.runner !== runner) return
      void runner.lease({ owner: base.owner, until: clock.now() + core.leaseMs }).then(
        () => renew(name),
        (error) => base.onError(error, { subscription: name }),
      )
    })
  }

  const reclaim = async (name: string): Promise<void> => {
    const entry = attached.get(name)
    if (!entry?.runner) return
    const got = await core.read(name)
    if (got && got.record.lease?.owner === base.owner && got.record.lease.until > clock.now())
      return entry.runner.adopt(got.record, got.version)
    entry.runner.stop(new TidingsError('CLOSED', `subscription "${name}" moved to another bus`))
    delete entry.runner
    if (got) await acquire(name)
  }

  // Another bus released or changed a subscription: take it over at once, or pick up its changes.
  const unwatch = store.watch?.('s/', (changed) => {
    for (const key of changed) {
      const name = key.slice(2)
      const entry = attached.get(name)
      if (!entry) continue
      const runner = entry.runner
      if (!runner) void acquire(name).catch(() => {})
      // Our own commits notify too, while they are in flight: skip those. A foreign write that
      // lands meanwhile makes our next commit fail its check, which reclaims all the same.
      else if (!runner.working) {
        void (async () => {
          const got = await core.read(name)
          if (got && got.version !== runner.version && !runner.working) await reclaim(name)
        })().catch(() => {})
      }
    }
  })

  return { acquire, reclaim, unwatch }
}
