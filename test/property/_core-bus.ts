// One fresh bus per generated input for the core's property tests: a memory store (so "nothing
// written" is checked by a store snapshot) and a manual clock (so nothing waits).
import { expect } from 'vitest'
import { createBus, type Bus, type BusOptions } from '../../src/bus.js'
import { manualClock, type ManualClock } from '../../src/clock/manual-clock.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/store.js'
import { settle, snapshot } from './_oracle.js'

export const T0 = Date.parse('2026-01-01T00:00:00Z')

export interface Fresh {
  bus: Bus
  store: Store
  clock: ManualClock
}

/**
 * Runs `setup`, then `call` on a fresh bus through the oracle (`settle`): it succeeds or is refused with a
 * documented code; after a refusal, the store is exactly as before. Returns the outcome and the
 * bus (closed afterwards by `done`).
 */
export const onFreshBus = async <T>(
  call: (f: Fresh) => T | Promise<T>,
  options: BusOptions = {},
  setup?: (f: Fresh) => Promise<unknown>,
) => {
  const store = memoryStore()
  const clock = manualClock(T0)
  const bus = createBus({ store, clock, onError: () => {}, ...options })
  if (setup) await setup({ bus, store, clock })
  await bus.idle()
  const before = await snapshot(store)
  const outcome = await settle(() => call({ bus, store, clock }))
  if (!outcome.ok)
    expect(
      await snapshot(store),
      `${outcome.error.code} wrote to the store: ${outcome.error.message}`,
    ).toEqual(before)
  return { outcome, bus, store, clock, done: () => bus.close() }
}
