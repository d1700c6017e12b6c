import {
  type Bus,
  type EventMap,
  type Filter,
  type HandlerContext,
  type OpenEvents,
  type SubscribeOptions,
  type Subscription,
  TidingsError,
} from '../../src/index.js'
import {
  checkBatch,
  checkSubscriptionName,
  compileFilter,
  compilePattern,
  fail,
  releaseLease,
  subscriptionExists,
  watchSubscription,
} from '../../src/internal.js'
import type { IndexedDBStore } from './store.js'

/** What {@link crossTab} returns: durable subscriptions that run in exactly one tab at a time. */
export interface CrossTab<E extends EventMap = OpenEvents> {
  /**
   * Like `bus.subscribe`, but the handler runs only in the tab holding the Web Lock
   * `tidings:<store name>:<subscription>`; every other tab waits in line for it and takes over
   * when that tab closes (or closes the handle). Resolves once the subscription is durably
   * registered, by this tab or the one running it.
   */
  subscribe: Bus<E>['subscribe']
}

// Names each bus has subscribed through crossTab: a second request for the same lock from the same
// tab would wait behind the first forever, so it is refused at once, as bus.subscribe would.
const taken = new WeakMap<object, Set<string>>()

/**
 * Cross-tab delivery for a bus over an {@link indexedDBStore}. Live listeners (`bus.on`) need
 * nothing from it: every tab's bus learns of the others' appends through the store's watch
 * (BroadcastChannel) and calls its own listeners once per event. Durable subscriptions go through
 * it, so that each runs in one tab at a time: the tab holding its Web Lock. When that tab closes,
 * the browser hands the lock to the next tab in line, which takes the subscription over at once
 * (the lease the closed tab left behind cannot belong to anyone alive) and resumes from the
 * stored cursor and acks: nothing acknowledged runs again, and what was in flight runs again
 * (at-least-once). Every tab must subscribe a given name through `crossTab`.
 *
 * @example
 * const store = indexedDBStore({ name: 'shop' })
 * const bus = createBus<Events>({ store })
 * const tabs = crossTab(bus, store)
 * await tabs.subscribe('mailer', 'order.placed', async (e) => { await sendMail(e.data) })
 */
export const crossTab = <E extends EventMap>(bus: Bus<E>, store: IndexedDBStore): CrossTab<E> => {
  const run = inOneTab(bus, store)
  return {
    subscribe: ((
      name: string,
      pattern: string,
      handler: (e: never, ctx: HandlerContext) => unknown,
      options?: SubscribeOptions,
    ) => run(name, pattern, handler, options)) as unknown as CrossTab<E>['subscribe'],
  }
}

/**
 * crossTab's subscribe, with `held` told when this tab starts running the subscription (it holds
 * the lock and attached it) and when it stops: the bridge's `sending` status.
 *
 * @example
 * const run = inOneTab(bus, store)
 * await run('bridge-out', 'order.**', send, undefined, (held) => render({ sending: held }))
 */
export const inOneTab = <E extends EventMap>(bus: Bus<E>, store: IndexedDBStore) => {
  /** Resolves once the subscription's record exists (another tab registered it). */
  const registered = (name: string, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const check = () =>
        void subscriptionExists(store, name).then(
          (exists) => {
            if (exists) {
              off()
              resolve()
            }
          },
          () => {},
        )
      const off = watchSubscription(store, name, check)
      signal.addEventListener('abort', off, { once: true })
      check()
    })

  const mine = taken.get(bus) ?? new Set<string>()
  taken.set(bus, mine)

  return (
    name: string,
    pattern: string,
    handler: (e: never, ctx: HandlerContext) => unknown,
    options?: SubscribeOptions,
    held?: (held: boolean) => void,
  ): Promise<Subscription> => {
    // What bus.subscribe would refuse, refused here too: a tab waiting in line never calls it.
    try {
      checkSubscriptionName(name)
      if (typeof handler !== 'function')
        fail('INVALID_OPTIONS', 'a subscription needs a handler function')
      compilePattern(pattern)
      if (options?.filter !== undefined) compileFilter(options.filter as Filter)
      const { batch } = (options ?? {}) as { batch?: unknown }
      if (batch !== undefined) checkBatch(batch)
    } catch (e) {
      return Promise.reject(e)
    }
    if (mine.has(name))
      return Promise.reject(
        new TidingsError(
          'ALREADY_SUBSCRIBED',
          `subscription "${name}" is already attached on this bus`,
        ),
      )
    mine.add(name)
    const stop = new AbortController()
    let release = () => {}
    let attached: Subscription | undefined
    const handle: Subscription = {
      name,
      async close() {
        mine.delete(name)
        stop.abort()
        release()
        await attached?.close()
      },
    }
    return new Promise((resolve, reject) => {
      let settled = false
      const done = (e?: unknown) => {
        if (settled) return
        settled = true
        if (e) {
          stop.abort()
          mine.delete(name)
          reject(e)
        } else resolve(handle)
      }
      navigator.locks
        .request(`tidings:${store.name}:${name}`, { signal: stop.signal }, async () => {
          if (stop.signal.aborted) return
          try {
            // We hold the lock: any live lease is a leftover of a tab that closed without releasing it.
            await releaseLease(store, name)
            attached = await (bus.subscribe as (...a: unknown[]) => Promise<Subscription>)(
              name,
              pattern,
              handler,
              options,
            )
          } catch (e) {
            done(e)
            return
          }
          done()
          held?.(true)
          // Held until the handle closes, or the tab does (the browser releases it then).
          await new Promise<void>((r) => {
            release = r
            if (stop.signal.aborted) r()
          })
          held?.(false)
          await attached.close()
        })
        .catch((e: unknown) => {
          if (!stop.signal.aborted) done(e)
        })
      // Another tab may be running it already: then registration is its business.
      void registered(name, stop.signal).then(() => done())
    })
  }
}
