import { PREFIX } from '../store/keys.js'
import type { Store } from '../store/store.js'
import type { IdIndex } from './dedup.js'

/**
 * Each durable subscription's cursor, and until when it pins: retention keeps everything from the
 * lowest live one on, and a subscription left without a handler past its expiry stops pinning.
 */
export interface Pins {
  /** Set when another bus may have added a subscription this one does not know: read them again. */
  stale: boolean
  /** Reads every subscription's cursor and expiry from the store. */
  load(): Promise<void>
  /** The lowest cursor still pinning at `now` (Infinity when none). */
  lowest(now: number): number
  /** Pins from `cursor` on, with no expiry (a handler is attached here). */
  set(name: string, cursor: number): void
  delete(name: string): void
  has(name: string): boolean
}

/**
 * The retention pins of one log, read from the subscriptions' records.
 *
 * @example
 * const pins = createPins(store, 7 * 86_400_000)
 * await pins.load()
 * const keepFrom = pins.lowest(clock.now())
 */
export const createPins = (store: Store, expireAfter: number): Pins => {
  const byName = new Map<string, { cursor: number; until: number }>()
  const pins: Pins = {
    stale: false,
    async load() {
      pins.stale = false
      const subs = await store.list({ prefix: PREFIX.subscriptions })
      byName.clear()
      for (const { key, value } of subs) {
        const r = value as {
          cursor: number
          created: number
          detached?: number
          lease?: { until: number }
        }
        byName.set(key.slice(2), {
          cursor: r.cursor,
          until: Math.max(r.lease?.until ?? 0, r.detached ?? r.created) + expireAfter,
        })
      }
    },
    lowest(now) {
      let min = Infinity
      for (const p of byName.values()) if (p.until > now && p.cursor < min) min = p.cursor
      return min
    },
    set(name, cursor) {
      byName.set(name, { cursor, until: Infinity })
    },
    delete(name) {
      byName.delete(name)
    },
    has: (name) => byName.has(name),
  }
  return pins
}

/**
 * The oldest seq younger than `cutoff`, from the dedup records' times (0 when unknown). Bounded
 * per commit (64 records); the cut catches up over the next ones.
 *
 * @example
 * const cut = ageCut(index, clock.now() - retention.age)
 */
export const ageCut = (index: IdIndex, cutoff: number): number => {
  let cut = 0
  let n = 0
  for (const r of index.oldest()) {
    if (r.t >= cutoff || ++n > 64) break
    if (r.s) cut = r.s + r.ids.length
  }
  return cut
}
