import type { Store } from '../store/store.js'

// Stores whose host journals its own deliveries (the Cloudflare object's claim journal).
const countedByHost = new WeakSet<Store>()

/**
 * For an adapter whose host journals the deliveries it has running and counts those of a runtime
 * that died by itself (with `countDeadRuntimeAttempts`): buses over this store then neither note
 * what runs in the subscription record nor count a dead owner's notes when they take a lease, so a
 * poison event is not charged twice per crash. Call it before the bus subscribes.
 *
 * @example
 * const store = durableObjectStore(ctx.storage)
 * leaveDeadRuntimesToHost(store)
 * const bus = createBus({ store })
 */
export const leaveDeadRuntimesToHost = (store: Store): void => {
  countedByHost.add(store)
}

/**
 * Whether buses over this store count a dead runtime's deliveries themselves (the default), rather
 * than leaving them to the host (see {@link leaveDeadRuntimesToHost}).
 *
 * @example
 * const countDeadRuntimes = countsDeadRuntimes(store)
 */
export const countsDeadRuntimes = (store: Store): boolean => !countedByHost.has(store)
