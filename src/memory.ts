import { SortedKeys } from './_sorted.js'
import { prefixEnd, type Store, type StoreEntry } from './store.js'

interface Slot { value: unknown; version: number }

/**
 * The embedded default store: everything in memory, shared by every bus given the same instance
 * (so a second bus over it resumes subscriptions, as a second tab would over IndexedDB).
 * It keeps the references it is given; the bus only ever hands it values it owns.
 *
 * @example
 * const store = memoryStore()
 * const a = createBus({ store })
 * const b = createBus({ store }) // sees a's events through `watch`
 */
export const memoryStore = (): Store => {
  const data = new Map<string, Slot>()
  const keys = new SortedKeys()
  const watchers = new Set<{ prefix: string; cb: (keys: readonly string[]) => void }>()
  let version = 0

  const entry = (key: string, s: Slot): StoreEntry => ({ key, value: s.value, version: String(s.version) })
  const put = (key: string, value: unknown, v: number) => {
    const s = data.get(key)
    if (s) { s.value = value; s.version = v } else { data.set(key, { value, version: v }); keys.insert(key) }
  }
  const drop = (key: string) => { if (data.delete(key)) keys.remove(key) }

  return {
    async get(key) {
      const s = data.get(key)
      return s && entry(key, s)
    },
    async list({ prefix = '', start = prefix, end, limit = Infinity, reverse = false }) {
      const hi = prefix ? (end && end < prefixEnd(prefix) ? end : prefixEnd(prefix)) : (end ?? '\uffff')
      const lo = start > prefix ? start : prefix
      return keys.range(lo, hi, limit, reverse).map((k) => entry(k, data.get(k)!))
    },
    async commit({ checks = [], mutations }) {
      for (const c of checks) {
        const s = data.get(c.key)
        if ((s ? String(s.version) : null) !== c.version) return { ok: false }
      }
      const v = ++version
      const touched: string[] = []
      for (const m of mutations) {
        if (m.type === 'set') { put(m.key, m.value, v); touched.push(m.key) }
        else if (m.type === 'delete') { drop(m.key); touched.push(m.key) }
        else for (const k of keys.range(m.start, m.end, Infinity, false)) { drop(k); touched.push(k) }
      }
      if (watchers.size) {
        // Notify asynchronously, never from inside commit: a watcher may commit in turn.
        queueMicrotask(() => {
          for (const w of watchers) {
            const mine = touched.filter((k) => k.startsWith(w.prefix))
            if (mine.length) w.cb(mine)
          }
        })
      }
      return { ok: true, version: String(v) }
    },
    watch(prefix, cb) {
      const w = { prefix, cb }
      watchers.add(w)
      return () => watchers.delete(w)
    },
  }
}
