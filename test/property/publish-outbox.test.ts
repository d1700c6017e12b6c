// The outbox stages with the bus's own event check (issue 12.12): what a transaction commits, the
// drain can append. Before, the outbox sized the payload alone (+200 bytes) while publish counted
// the whole envelope, so a big payload with long key/correlationId/causationId was staged and then
// refused by every drain, forever.
import 'fake-indexeddb/auto'
import fc from 'fast-check'
import { openDB } from 'idb'
import { describe, expect, it } from 'vitest'
import { indexedDBStore, outbox, upgradeTidings } from '../../adapters/indexeddb/index.js'
import { createBus } from '../../src/bus.js'
import { runs } from './_oracle.js'

let dbs = 0
const setup = async (maxEventBytes: number, source?: string) => {
  const db = await openDB(`outbox-check-${dbs++}`, 1, {
    upgrade(d) {
      d.createObjectStore('todos', { keyPath: 'id' })
      upgradeTidings(d)
    },
  })
  const store = indexedDBStore({ db })
  const bus = createBus({
    store,
    limits: { maxEventBytes },
    ...(source ? { source } : {}),
    onError: () => {},
  })
  const errors: unknown[] = []
  const box = outbox(bus, store, { onError: (e) => errors.push(e) })
  return {
    db,
    store,
    bus,
    box,
    errors,
    close: async () => {
      await bus.close()
      await store.close()
      db.close()
    },
  }
}

describe('outbox: the same check as publish', () => {
  it('refuses in the transaction what publish refuses (3,000-byte payload, 500-char key/correlationId/causationId, limit 4096)', async () => {
    const { db, bus, box, errors, close } = await setup(4096)
    const long = 'k'.repeat(500)
    const options = { key: long, correlationId: long, causationId: long }
    const data = 'x'.repeat(3000)
    await expect(bus.publish('todo.added', data, options)).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    })
    await expect(
      box.transaction('todos', (tx, publish) => {
        tx.objectStore('todos')
          .put({ id: 't1' })
          .catch(() => {})
        publish('todo.added', data, options)
      }),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    // Nothing committed: not the app's row, not a staged event; the drain has nothing to refuse.
    expect(await db.count('todos')).toBe(0)
    expect(await db.count('tidings-outbox')).toBe(0)
    expect(await box.drain()).toBe(0)
    expect(errors).toEqual([])
    await close()
  })

  it("agrees with publish on every generated event near the limit, with the bus's own source", async () => {
    const { bus, box, errors, close } = await setup(2048, 'a-rather-long-source-name-for-this-bus')
    const text = fc.string({ maxLength: 600, unit: 'binary' })
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 900, maxLength: 1600 }),
        fc.option(text, { nil: undefined }),
        fc.option(text, { nil: undefined }),
        async (data, key, correlationId) => {
          const options = { ...(key ? { key } : {}), ...(correlationId ? { correlationId } : {}) }
          const staged = await box
            .transaction('todos', (_tx, publish) => publish('todo.added', data, options))
            .then(
              () => true,
              (e: { code: string }) => e.code,
            )
          const published = await bus.publish('todo.added', data, options).then(
            () => true,
            (e: { code: string }) => e.code,
          )
          // The outbox's id (outbox-<uuid>, 43 characters) counts too: publish with an id that long.
          const same = await bus
            .publish('todo.added', data, { ...options, id: `outbox-${crypto.randomUUID()}` })
            .then(
              () => true,
              (e: { code: string }) => e.code,
            )
          expect(staged).toBe(same)
          expect([true, 'PAYLOAD_TOO_LARGE', 'INVALID_OPTIONS']).toContain(published)
        },
      ),
      runs(60),
    )
    expect(errors).toEqual([])
    await close()
  })
})
