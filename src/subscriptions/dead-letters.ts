import { optionsOf } from '../check.js'
import type { DeadLetter } from '../types.js'
import { checkIds, checking, checkName } from './arguments.js'
import type { SubscriptionsCore } from './attached.js'
import { keys } from './record.js'

/** The dead letters of the bus's subscriptions (see `Bus.deadLetters`). */
export interface DeadLetters {
  list(options?: { subscription?: string }): Promise<DeadLetter[]>
  /** Delivers again to that one subscription with fresh attempts; resolves the number affected. */
  redrive(ids?: readonly string[]): Promise<number>
  discard(ids?: readonly string[]): Promise<number>
}

/**
 * Dead letters over the store: listed, redriven (a retry due now, in their subscription) or discarded.
 *
 * @example
 * const deadLetters = createDeadLetters(core, leases.reclaim)
 * await deadLetters.redrive(['mailer/42'])
 */
export const createDeadLetters = (
  core: SubscriptionsCore,
  reclaim: (name: string) => Promise<void>,
): DeadLetters => {
  const { store, clock } = core.base

  const deadLetters = async (subscription?: string) =>
    (await store.list({ prefix: subscription === undefined ? 'x/' : `x/${subscription}/` })).map(
      (entry) => entry.value as DeadLetter,
    )

  /** Moves one dead letter back to a retry due now; false when it or its subscription is gone. */
  const redriveOne = async (letter: DeadLetter, now: number): Promise<boolean> => {
    for (;;) {
      const [got, still] = await Promise.all([
        core.read(letter.subscription),
        store.get(keys.dead(letter.subscription, letter.event.seq)),
      ])
      if (!got || !still) return false
      // Rewriting the record bumps its version, so the bus running it reloads and sees the redrive.
      const result = await store.commit({
        checks: [
          { key: keys.sub(letter.subscription), version: got.version },
          { key: still.key, version: still.version },
        ],
        mutations: [
          { type: 'delete', key: keys.dead(letter.subscription, letter.event.seq) },
          {
            type: 'set',
            key: keys.retry(letter.subscription, letter.event.seq),
            value: { attempt: 0, due: now, event: letter.event },
          },
          { type: 'set', key: keys.sub(letter.subscription), value: got.record },
        ],
      })
      // The subscription committed meanwhile (a busy one does): read it again and retry.
      if (!result.ok) continue
      await reclaim(letter.subscription)
      return true
    }
  }

  return {
    async list(options) {
      let subscription: unknown
      checking(() => {
        subscription = optionsOf(options, 'deadLetters.list').subscription
        if (subscription !== undefined) checkName(subscription)
      })
      return deadLetters(subscription as string | undefined)
    },
    async redrive(ids) {
      checking(() => checkIds(ids))
      const letters = (await deadLetters()).filter((letter) => !ids || ids.includes(letter.id))
      const now = clock.now()
      let redriven = 0
      for (const letter of letters) if (await redriveOne(letter, now)) redriven++
      return redriven
    },
    async discard(ids) {
      checking(() => checkIds(ids))
      const letters = (await deadLetters()).filter((letter) => !ids || ids.includes(letter.id))
      if (letters.length)
        await store.commit({
          mutations: letters.map((letter) => ({
            type: 'delete' as const,
            key: keys.dead(letter.subscription, letter.event.seq),
          })),
        })
      return letters.length
    },
  }
}
