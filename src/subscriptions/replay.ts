import { fail } from '../errors.js'
import { prefixEnd } from '../store/store.js'
import { checking, checkName, checkPoint } from './arguments.js'
import type { SubscriptionsCore } from './attached.js'
import { keys, type SubRecord } from './record.js'
import { startAt } from './start-point.js'

/**
 * Pub/Sub's seek over the store: everything before the point counts as handled, everything from it
 * on runs again, whichever bus runs the subscription (a changed record makes that bus reload).
 *
 * @example
 * await replay(core, 'mailer', { seq: 0 })
 */
export const replay = async (
  core: SubscriptionsCore,
  name: string,
  point: { seq: number } | { time: number },
): Promise<void> => {
  const { base, attached } = core
  const { store, log } = base
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
        // An explicit replay handles again what the ledger remembers; dead letters stay.
        ...[keys.acks(name), keys.retries(name), keys.ledgers(name)].map((prefix) => ({
          type: 'deleteRange' as const,
          start: prefix,
          end: prefixEnd(prefix),
        })),
      ],
    })
    if (!result.ok) continue
    base.pin(name, seq)
    const runner = attached.get(name)?.runner
    if (runner) await runner.adopt(record, result.version)
    return
  }
}
