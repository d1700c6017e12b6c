import type { Bus } from '../../src/index.js'
import { encodeCursor, subscriptionCursor } from '../../src/internal.js'
import type { IndexedDBStore } from './store.js'

/**
 * How many events the bridge still has to send: those matching `pattern` from the out
 * subscription's cursor on, less the ones it received from the server (never sent back). 0 before
 * the subscription exists.
 *
 * @example
 * update({ pending: await countPending(bus, store, 'bridge-out', 'order.**', inbound) })
 */
export const countPending = async (
  bus: Bus,
  store: IndexedDBStore,
  outName: string,
  pattern: string,
  inbound: Set<string>,
): Promise<number> => {
  const cursor = await subscriptionCursor(store, outName)
  let n = 0
  if (cursor !== undefined) {
    for (let from = encodeCursor([cursor]); ;) {
      const page = await bus.read({ from, pattern, limit: 1000 } as never)
      n += (page.events as { id: string }[]).filter((e) => !inbound.has(e.id)).length
      if (page.events.length < 1000) break
      from = page.next
    }
  }
  return n
}
