import type { SqlStore } from '../../src/internal.js'
import type { SqliteDatabase } from './_driver.js'

type Watcher = { prefix: string; callback: (keys: readonly string[]) => void }

/**
 * What every store over one handle shares: its watchers and where the poll of the file stands.
 *
 * @example
 * const hub = watchersOf(db, kv, 50)
 * const unwatch = hub.watch('e/', (keys) => console.log(keys))
 */
export interface Watchers {
  watch(prefix: string, callback: (keys: readonly string[]) => void): () => void
  /** A commit through this handle landed: tell the watchers (on a later microtask). */
  committed(version: number, keys: readonly string[]): void
  /** Checks the file for other connections' commits now. */
  poll(): void
}

const hubs = new WeakMap<SqliteDatabase, Watchers>()

/**
 * `Store.watch` across processes. Commits through this handle reach its watchers at once. Another
 * connection's (another process's) commits are found by polling `PRAGMA data_version` while
 * anything is watched: it changes only when another connection committed, so a poll of an idle
 * file is one tiny statement. When it moved, the change journal says which keys the new commits
 * wrote; commits already delivered locally are skipped. Every store over one handle shares one
 * hub, since data_version cannot see commits of the same connection.
 *
 * The poll timer keeps the process alive while something is watched (a worker process that only
 * handles events stays up); closing the bus unwatches, and the process may exit.
 */
export const watchersOf = (db: SqliteDatabase, kv: SqlStore, pollMs: number): Watchers => {
  const known = hubs.get(db)
  if (known) return known
  const watchers = new Set<Watcher>()
  const dataVersion = db.prepare('PRAGMA data_version')
  // Versions committed through this handle after `seen` while another connection's commit sits
  // between them: the journal lists them too, and they were delivered already.
  const local = new Set<number>()
  let seen = 0
  let lastDataVersion: unknown
  let timer: ReturnType<typeof setInterval> | undefined

  const deliver = (keys: readonly string[]) => {
    for (const watcher of [...watchers]) {
      const mine = keys.filter((key) => key.startsWith(watcher.prefix))
      if (mine.length) watcher.callback(mine)
    }
  }
  const readDataVersion = () => (dataVersion.all()[0] as { data_version: unknown }).data_version

  const poll = () => {
    if (!watchers.size) return
    const current = readDataVersion()
    if (current === lastDataVersion) return
    lastDataVersion = current
    const changes = kv.changesSince(seen)
    if (!changes) {
      // The journal was pruned past us: every key written since, found by version (deletes are lost).
      for (const watcher of [...watchers]) {
        const keys = kv.setSince(seen, watcher.prefix)
        if (keys.length) watcher.callback(keys)
      }
      seen = kv.version()
      local.clear()
      return
    }
    const keys: string[] = []
    for (const change of changes) {
      if (!local.delete(change.version)) keys.push(...change.keys)
      seen = change.version
    }
    if (keys.length) deliver(keys)
  }

  // From a timer nobody awaits: a busy file or a handle the app closed must not crash the process.
  // The next tick tries again; `seen` only moves after a read succeeded, so nothing is skipped.
  const pollQuietly = () => {
    try {
      poll()
    } catch {
      /* tried again on the next tick */
    }
  }

  const hub: Watchers = {
    watch(prefix, callback) {
      if (!watchers.size) {
        lastDataVersion = readDataVersion()
        seen = kv.version()
        timer = setInterval(pollQuietly, pollMs)
      }
      const watcher = { prefix, callback }
      watchers.add(watcher)
      return () => {
        if (!watchers.delete(watcher) || watchers.size) return
        clearInterval(timer)
        local.clear()
      }
    },
    committed(version, keys) {
      if (!watchers.size) return
      // Nothing else committed since the last look: the journal has nothing for us before `version`.
      if (version === seen + 1) seen = version
      else local.add(version)
      // Never from inside commit: a watcher may commit in turn.
      if (keys.length) queueMicrotask(() => deliver(keys))
    },
    poll,
  }
  hubs.set(db, hub)
  return hub
}
