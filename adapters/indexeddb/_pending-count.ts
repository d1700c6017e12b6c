import type { Bus } from '../../src/index.js'
import { encodeCursor, subscriptionCursor, watchSubscription } from '../../src/internal.js'
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

/** The bridge's pending count, kept up to date (see {@link watchPending}). */
export interface PendingWatch {
  /** Counts again, at most every 50 ms. */
  recount(): void
  stop(): void
}

/**
 * Pending: matching events from the out subscription's cursor on. Recounted, at most every 50 ms,
 * when the cursor moves or a matching event is appended (in any tab); `onCount` hears each count.
 *
 * @example
 * const pending = watchPending(bus, store, 'bridge-out', 'order.**', inbound, (n) => update({ pending: n }))
 */
export const watchPending = (
  bus: Bus,
  store: IndexedDBStore,
  outName: string,
  pattern: string,
  inbound: Set<string>,
  onCount: (pending: number) => void,
): PendingWatch => {
  let counting: ReturnType<typeof setTimeout> | undefined
  const recount = () => {
    if (counting) return
    counting = setTimeout(
      () =>
        void count()
          .catch(() => {})
          .finally(() => {
            counting = undefined
          }),
      50,
    )
  }
  const count = async () => onCount(await countPending(bus, store, outName, pattern, inbound))
  const offCount = [watchSubscription(store, outName, recount), bus.on(pattern as never, recount)]
  return {
    recount,
    stop() {
      for (const off of offCount) off()
      clearTimeout(counting)
    },
  }
}
