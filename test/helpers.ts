import type { Store } from '../src/store/store.js'
import { memoryStore } from '../src/store/memory.js'

/** A memory store that counts commits and can be told to fail the next ones. */
export const countingStore = (inner: Store = memoryStore()) => {
  const stats = { commits: 0, failNext: 0 as number, error: undefined as unknown }
  const store: Store = {
    ...inner,
    get: (k) => inner.get(k),
    list: (o) => inner.list(o),
    async commit(c) {
      if (stats.failNext > 0) {
        stats.failNext--
        throw stats.error
      }
      stats.commits++
      return inner.commit(c)
    },
  }
  if (inner.watch) store.watch = (p, cb) => inner.watch!(p, cb)
  return { store, stats }
}

/** Rejection details of a promise, or a failure if it resolved. */
export const rejection = async (
  p: Promise<unknown>,
): Promise<{ code?: string; message: string }> => {
  try {
    await p
  } catch (e) {
    return e as { code?: string; message: string }
  }
  throw new Error('expected a rejection')
}
