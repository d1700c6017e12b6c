/** What one store instance posts after each commit: the keys it wrote. */
interface Changed {
  keys: string[]
}

/**
 * `Store.watch` across tabs: after a commit, the store tells its own watchers (same instance) and
 * every other instance over the same database (other tabs, other connections in this tab) through a
 * BroadcastChannel named after the database. A BroadcastChannel never delivers to itself, so the
 * local call and the broadcast never double up.
 */
export const createWatchers = (channelName: string) => {
  const watchers = new Set<{ prefix: string; cb: (keys: readonly string[]) => void }>()
  let channel: BroadcastChannel | undefined

  const deliver = (keys: readonly string[]) => {
    for (const w of watchers) {
      const mine = keys.filter((k) => k.startsWith(w.prefix))
      if (mine.length) w.cb(mine)
    }
  }
  // One channel sends and receives: a second one in this instance would hear our own posts.
  const open = () => {
    if (channel) return channel
    channel = new BroadcastChannel(channelName)
    channel.onmessage = (m: MessageEvent<Changed>) => deliver(m.data.keys)
    return channel
  }

  return {
    watch(prefix: string, cb: (keys: readonly string[]) => void): () => void {
      open()
      const w = { prefix, cb }
      watchers.add(w)
      return () => {
        watchers.delete(w)
      }
    },
    /** After a commit landed: local watchers on a later microtask (a watcher may commit in turn), then the others. */
    changed(keys: string[]) {
      if (!keys.length) return
      if (watchers.size) queueMicrotask(() => deliver(keys))
      open().postMessage({ keys } satisfies Changed)
    },
    close() {
      watchers.clear()
      channel?.close()
      channel = undefined
    },
  }
}
