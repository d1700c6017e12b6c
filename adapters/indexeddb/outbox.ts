import { unwrap, type IDBPTransaction } from 'idb'
import type { Bus, PublishOptions } from '../../src/bus.js'
import type { EventMap, OpenEvents } from '../../src/event.js'
import { limitsOf } from '../../src/check.js'
import { OUTBOX } from './_schema.js'
import { stage, type Staged } from './_staged.js'
import type { IndexedDBStore } from './store.js'

/** Stages an event in the callback's transaction; returns its id. Throws on bad input (the transaction then aborts). */
export type StagePublish<E extends EventMap = OpenEvents> = <T extends keyof E & string>(
  type: T,
  data: E[T],
  options?: PublishOptions,
) => string

/** Options of {@link outbox}. */
export interface OutboxOptions {
  /**
   * The bus's `limits.maxEventBytes`, for a bus not made by `createBus` (one made by it is asked
   * directly, so its limit and `source` are always the ones checked). Default 128 KiB.
   */
  maxEventBytes?: number
  /** Where a failed drain is reported (the events stay staged and drain on the next try). Default `console.error`. */
  onError?: (error: unknown) => void
}

/** What {@link outbox} returns. */
export interface Outbox<E extends EventMap = OpenEvents> {
  /**
   * Runs `fn` in one readwrite transaction over `stores` and tidings' outbox: the app's writes and
   * the events `fn` stages with `publish` commit together or not at all. Resolves with what `fn`
   * returned once the transaction has committed (the events then drain into the log).
   * `fn` may await the transaction's own requests and nothing else: IndexedDB commits a transaction
   * as soon as it has no pending request, so awaiting a fetch, a timer or the bus inside it ends it
   * early (the next request then fails with `TransactionInactiveError`).
   */
  transaction<R>(
    stores: string | readonly string[],
    fn: (
      tx: IDBPTransaction<any, string[], 'readwrite'>,
      publish: StagePublish<E>,
    ) => R | Promise<R>,
  ): Promise<Awaited<R>>
  /** Appends what is staged to the log (by id, so twice is harmless); resolves how many were staged. */
  drain(): Promise<number>
}

const PAGE = 500

/**
 * The transactional outbox: write to the app's own object stores and publish the events the
 * write causes in one IndexedDB transaction. Events are staged in the `tidings-outbox` object
 * store of the same database (so the store must be `indexedDBStore({ db })` over the app's
 * database, created with `upgradeTidings`), then drained into the log after the transaction
 * commits and whenever an outbox is created, so a tab closed in between loses nothing. Staged
 * events carry their id, and the bus appends an id once: a drain repeated by two tabs or after a
 * crash appends nothing twice. Bad input (topic, options, payload) throws inside `publish`, which
 * aborts the whole transaction: nothing is written.
 *
 * @example
 * const db = await openDB('shop', 1, { upgrade(db) { db.createObjectStore('todos', { keyPath: 'id' }); upgradeTidings(db) } })
 * const store = indexedDBStore({ db })
 * const bus = createBus<Events>({ store })
 * const box = outbox(bus, store)
 * await box.transaction('todos', (tx, publish) => {
 *   tx.objectStore('todos').put(todo)          // no await on anything but tx's own requests
 *   publish('todo.added', { id: todo.id }, { key: todo.id })
 * })
 */
export const outbox = <E extends EventMap>(
  bus: Bus<E>,
  store: IndexedDBStore,
  options: OutboxOptions = {},
): Outbox<E> => {
  // The bus's own limits: staging checks exactly what its publish will, so the drain never refuses
  // for size what the transaction committed.
  const limits = limitsOf(bus) ?? { source: 'tidings', maxBytes: options.maxEventBytes ?? 131_072 }
  const onError = options.onError ?? ((e: unknown) => console.error('tidings outbox:', e))
  let draining: Promise<number> | undefined
  let again = false

  const drainOnce = async (): Promise<number> => {
    let total = 0
    let after: number | undefined
    let refused: unknown
    for (;;) {
      const db = await store.database()
      const tx = db.transaction(OUTBOX)
      const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true)
      const [keys, staged] = (await Promise.all([
        tx.store.getAllKeys(range, PAGE),
        tx.store.getAll(range, PAGE),
      ])) as [number[], Staged[]]
      if (!staged.length) break
      try {
        await bus.publishMany(staged as never)
        // Only what this drain read: anything staged since has a higher key.
        await db.delete(OUTBOX, IDBKeyRange.bound(keys[0]!, keys[keys.length - 1]!))
        total += staged.length
      } catch {
        // One event the bus refuses (its schemas) must not hold back the rest: one by one, and
        // what is refused stays staged (and is reported) while the others go.
        for (const [i, { type, data, ...options }] of staged.entries()) {
          try {
            await bus.publish(type as never, data as never, options)
            await db.delete(OUTBOX, keys[i]!)
            total++
          } catch (e) {
            refused ??= e
          }
        }
      }
      after = keys[keys.length - 1]!
      if (staged.length < PAGE) break
    }
    if (refused !== undefined) throw refused
    return total
  }

  const drain = (): Promise<number> => {
    if (draining) {
      again = true
      return draining
    }
    draining = (async () => {
      let n = 0
      do {
        again = false
        n += await drainOnce()
      } while (again)
      return n
    })().finally(() => {
      draining = undefined
    })
    return draining
  }

  // Whatever a previous page staged and could not drain (it closed right after committing).
  void drain().catch(onError)

  return {
    async transaction<R>(
      stores: string | readonly string[],
      fn: (
        tx: IDBPTransaction<any, string[], 'readwrite'>,
        publish: StagePublish<E>,
      ) => R | Promise<R>,
    ): Promise<Awaited<R>> {
      const names = [...(typeof stores === 'string' ? [stores] : stores), OUTBOX]
      const db = await store.database()
      const tx = db.transaction(names, 'readwrite') as IDBPTransaction<any, string[], 'readwrite'>
      tx.done.catch(() => {})
      const staging = unwrap(tx).objectStore(OUTBOX)
      const publish: StagePublish<E> = (type, data, o) => {
        const s = stage(type, data, o, limits)
        staging.add(s)
        return s.id
      }
      let result: Awaited<R>
      try {
        result = await fn(tx, publish)
      } catch (e) {
        try {
          tx.abort()
        } catch {
          /* already finished */
        }
        throw e
      }
      await tx.done
      await drain().catch(onError)
      return result
    },
    drain,
  }
}
