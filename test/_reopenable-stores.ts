// Stores a test can close and open again over the same data (a restart): the memory store (one
// instance kept) and a SQLite file in `directory`. Shared by the segment tests.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { sqliteStore } from '../adapters/sqlite/index.js'
import { memoryStore } from '../src/store/memory.js'
import type { Store } from '../src/store/store.js'

/** A store kind, reopened over the same data by `open` after `close` (a restart). */
export interface Reopenable {
  open(): Store
  close(store: Store): Promise<void>
}

/**
 * The memory store and a SQLite file, each as a fresh reopenable store per call.
 *
 * @example
 * for (const [name, make] of reopenableStores(temp)) it(name, async () => { const s = make(); ... })
 */
export const reopenableStores = (directory: string): [string, () => Reopenable][] => [
  [
    'memory',
    () => {
      const store = memoryStore()
      return { open: () => store, close: async () => {} }
    },
  ],
  [
    'sqlite file',
    () => {
      const path = join(directory, `${Math.random()}.db`)
      const databases: Database.Database[] = []
      return {
        open: () => {
          const database = new Database(path)
          databases.push(database)
          return sqliteStore(database)
        },
        close: async (store) => {
          await store.close?.()
          databases.pop()?.close()
        },
      }
    },
  ],
]
