import { keys, PREFIX } from '../store/keys.js'
import type { Store } from '../store/store.js'
import type { SubRecord } from './subscriptions.js'

// What adapters may do to subscription records, as functions: the record's layout stays the core's.

/**
 * Hands back the lease of a subscription whose holder is known to be gone (the caller holds an
 * exclusive lock, such as a tab's Web Lock), marking when it let go; retries until it commits.
 *
 * @example
 * await navigator.locks.request(`tidings:${store.name}:${name}`, async () => { await releaseLease(store, name); ... })
 */
export const releaseLease = async (store: Store, name: string): Promise<void> => {
  for (;;) {
    const got = await store.get(keys.sub(name))
    const record = got?.value as SubRecord | undefined
    if (!got || !record?.lease) return
    const { lease: _, ...free } = record
    const result = await store.commit({
      checks: [{ key: got.key, version: got.version }],
      mutations: [{ type: 'set', key: got.key, value: { ...free, detached: record.lease.until } }],
    })
    if (result.ok) return
  }
}

/**
 * Drops every subscription's lease in one commit: for the only bus over a store (a Durable
 * Object) starting again, so its subscriptions resume at once instead of waiting for a lapse.
 *
 * @example
 * await releaseAllLeases(store) // before createBus({ store })
 */
export const releaseAllLeases = async (store: Store): Promise<void> => {
  const held = (await store.list({ prefix: PREFIX.subscriptions })).filter((entry) => {
    const value = entry.value as Record<string, unknown> | null
    return typeof value === 'object' && value !== null && !Array.isArray(value) && value.lease
  })
  if (!held.length) return
  await store.commit({
    mutations: held.map((entry) => {
      const { lease: _, ...record } = entry.value as Record<string, unknown>
      return { type: 'set' as const, key: entry.key, value: record }
    }),
  })
}

/**
 * A subscription's stored cursor (the first seq not yet handled), or undefined when it is not registered.
 *
 * @example
 * const cursor = await subscriptionCursor(store, 'bridge-out')
 */
export const subscriptionCursor = async (store: Store, name: string): Promise<number | undefined> =>
  ((await store.get(keys.sub(name)))?.value as { cursor: number } | undefined)?.cursor

/**
 * Whether a subscription is registered in the store (by this bus or another).
 *
 * @example
 * if (await subscriptionExists(store, 'mailer')) ...
 */
export const subscriptionExists = async (store: Store, name: string): Promise<boolean> =>
  !!(await store.get(keys.sub(name)))

/**
 * Calls `callback` when another writer changes a subscription's record (registers it, moves its
 * cursor, releases it). Needs a store with `watch`.
 *
 * @example
 * const unwatch = watchSubscription(store, 'bridge-out', recount)
 */
export const watchSubscription = (store: Store, name: string, callback: () => void): (() => void) =>
  store.watch!(keys.sub(name), callback)
