import type { Store } from './store.js'

/**
 * The embedded default store: everything in memory, shared by every bus given the same instance
 * (so a second bus over it resumes subscriptions, as a second tab would over IndexedDB).
 * It keeps the references it is given; the bus only ever hands it values it owns.
 *
 * Its implementation loads on first use, so apps that bring another store never ship it (the
 * bus's start-up is asynchronous anyway).
 *
 * @example
 * const store = memoryStore()
 * const a = createBus({ store })
 * const b = createBus({ store }) // sees a's events through `watch`
 */
export const memoryStore = (): Store => {
  let impl: Store | undefined
  const loading = import('./memory-store.js').then((m) => (impl = m.createMemoryStore()))
  // Watches registered before the implementation arrives are handed over when it does.
  const watch: Store['watch'] = (prefix, cb) => {
    let off: (() => void) | undefined
    let gone = false
    if (impl) off = impl.watch!(prefix, cb)
    else
      void loading.then((s) => {
        if (!gone) off = s.watch!(prefix, cb)
      })
    return () => {
      gone = true
      off?.()
    }
  }
  return {
    get: async (k) => (impl ?? (await loading)).get(k),
    list: async (o) => (impl ?? (await loading)).list(o),
    commit: async (c) => (impl ?? (await loading)).commit(c),
    watch,
  }
}
