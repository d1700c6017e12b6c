import { SortedKeys } from './sorted-keys.js'
import { prefixEnd, type Store, type StoreEntry } from './store.js'

/** The memory store's implementation, loaded on first use by `memoryStore()` (see memory.ts). */
export const createMemoryStore = (): Store => {
  // Entries are handed out as they are stored: they are never changed, only replaced.
  const data = new Map<string, StoreEntry>()
  const keys = new SortedKeys()
  const watchers = new Set<{ prefix: string; cb: (keys: readonly string[]) => void }>()
  let version = 0

  const put = (key: string, value: unknown, version: string) => {
    if (!data.has(key)) keys.insert(key)
    data.set(key, { key, value, version })
  }

  return {
    get: async (key) => data.get(key),
    async list({ prefix = '', start = prefix, end, limit = Infinity, reverse = false }) {
      const hi = prefix
        ? end && end < prefixEnd(prefix)
          ? end
          : prefixEnd(prefix)
        : (end ?? '\uffff')
      const lo = start > prefix ? start : prefix
      return keys.range(lo, hi, limit, reverse).map((k) => data.get(k)!)
    },
    async commit({ checks = [], mutations }) {
      for (const c of checks) {
        const s = data.get(c.key)
        if ((s ? s.version : null) !== c.version) return { ok: false }
      }
      const v = String(++version)
      const touched: string[] = []
      const watched = watchers.size > 0
      for (const m of mutations) {
        if (m.type === 'set') put(m.key, m.value, v)
        else if (m.type === 'delete') {
          if (data.delete(m.key)) keys.remove(m.key)
        } else {
          const gone = keys.removeRange(m.start, m.end)
          for (const k of gone) data.delete(k)
          if (watched) touched.push(...gone)
          continue
        }
        if (watched) touched.push(m.key)
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
      return { ok: true, version: v }
    },
    watch(prefix, cb) {
      const w = { prefix, cb }
      watchers.add(w)
      return () => watchers.delete(w)
    },
  }
}
