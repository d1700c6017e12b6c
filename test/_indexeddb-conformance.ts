// The shared store conformance suite over indexedDBStore, for both runtimes that run it: real
// Chromium (test/browser/store.test.ts) and fake-indexeddb in Node (test/indexeddb.test.ts).
import { describe, expect, it } from 'vitest'
import { indexedDBStore } from '../adapters/indexeddb/index.js'
import type { Store } from '../src/store/store.js'
import { storeConformance } from '../src/testing.js'

/** Runs the suite on fresh databases (named with `prefix`); `reopen` opens the same database again. */
export const indexedDBConformance = (label: string, prefix: string): void => {
  let n = 0
  const names = new WeakMap<Store, string>()
  const open = () => {
    const name = `${prefix}-${n++}`
    const s = indexedDBStore({ name })
    names.set(s, name)
    return s
  }
  storeConformance(
    label,
    { open, reopen: (s) => indexedDBStore({ name: names.get(s)! }) },
    { describe, it, expect },
  )
}
