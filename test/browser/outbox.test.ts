// The transactional outbox in real Chromium: the app's write and the event it causes commit in
// one IndexedDB transaction, or neither does.
import { openDB, type IDBPDatabase } from 'idb'
import { afterEach, describe, expect, it } from 'vitest'
import { createBus } from '../../src/bus.js'
import { TidingsError } from '../../src/errors.js'
import { indexedDBStore, outbox, upgradeTidings } from '../../adapters/indexeddb/index.js'
import { unique } from './_wait.js'

const dbs: IDBPDatabase<any>[] = []
const appDb = async (name = unique('app')) => {
  const db = await openDB(name, 1, {
    upgrade(d) {
      d.createObjectStore('todos', { keyPath: 'id' })
      upgradeTidings(d)
    },
  })
  dbs.push(db)
  return db
}
afterEach(() => {
  for (const db of dbs.splice(0)) db.close()
})

describe('transactional outbox', () => {
  it("commits the app's write and the event together", async () => {
    const db = await appDb()
    const store = indexedDBStore({ db })
    const bus = createBus({ store })
    const box = outbox(bus, store)
    const id = await box.transaction('todos', (tx, publish) => {
      tx.objectStore('todos').put({ id: 't1', title: 'milk' })
      return publish('todo.added', { id: 't1' }, { key: 't1' })
    })
    expect(await db.get('todos', 't1')).toEqual({ id: 't1', title: 'milk' })
    const { events } = await bus.read()
    expect(events.map((e) => [e.id, e.type, e.data, e.key])).toEqual([
      [id, 'todo.added', { id: 't1' }, 't1'],
    ])
    expect(await db.count('tidings-outbox')).toBe(0)
  })

  it("an aborted transaction leaves neither the app's write nor the event", async () => {
    const db = await appDb()
    const store = indexedDBStore({ db })
    const bus = createBus({ store })
    const box = outbox(bus, store)
    await db.put('todos', { id: 'dup', title: 'first' })
    // The event is staged, then the app's own write fails (the key exists): IndexedDB aborts it all.
    const failed = box.transaction('todos', async (tx, publish) => {
      publish('todo.added', { id: 'new' })
      await tx.objectStore('todos').put({ id: 'new', title: 'written, then rolled back' })
      await tx.objectStore('todos').add({ id: 'dup', title: 'second' })
    })
    await expect(failed).rejects.toMatchObject({ name: 'ConstraintError' })
    expect(await db.get('todos', 'new')).toBe(undefined)
    expect(await db.count('tidings-outbox')).toBe(0)
    await box.drain()
    expect((await bus.read()).events).toEqual([])
  })

  it('bad input throws a stable code inside the callback and nothing is written', async () => {
    const db = await appDb()
    const store = indexedDBStore({ db })
    const bus = createBus({ store })
    const box = outbox(bus, store)
    const failed = box.transaction('todos', async (tx, publish) => {
      await tx.objectStore('todos').put({ id: 't2' })
      publish('todo..added', {})
    })
    await expect(failed).rejects.toBeInstanceOf(TidingsError)
    await expect(failed).rejects.toMatchObject({ code: 'INVALID_TOPIC' })
    await expect(
      box.transaction('todos', (_tx, publish) => {
        publish('todo.added', { f: () => 1 })
      }),
    ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' })
    expect(await db.get('todos', 't2')).toBe(undefined)
    expect(await db.count('tidings-outbox')).toBe(0)
    expect((await bus.read()).events).toEqual([])
  })

  it('events staged by a page that closed before draining are appended once by the next', async () => {
    const name = unique('crash')
    const db = await appDb(name)
    const store = indexedDBStore({ db })
    const bus = createBus({ store })
    await bus.close() // the drain after commit fails: the page is going away
    const box = outbox(bus, store, { onError: () => {} })
    await box.transaction('todos', (tx, publish) => {
      tx.objectStore('todos').put({ id: 't3' })
      publish('todo.added', { id: 't3' }, { id: 'evt-t3' })
    })
    expect(await db.count('tidings-outbox')).toBe(1)
    // The next page: two tabs open at once, both drain; the id makes the second a no-op.
    const next = createBus({ store: indexedDBStore({ db: await appDb(name) }) })
    const store2 = indexedDBStore({ db: await appDb(name) })
    await Promise.all([outbox(next, store2).drain(), outbox(next, store2).drain()])
    const { events } = await next.read()
    expect(events.map((e) => e.id)).toEqual(['evt-t3'])
    expect(await db.count('tidings-outbox')).toBe(0)
  })

  it("an event the bus's schema refuses stays staged without holding back the events staged after it", async () => {
    const db = await appDb()
    const store = indexedDBStore({ db })
    const titled = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (v: unknown) =>
          typeof (v as { title?: unknown }).title === 'string'
            ? { value: v }
            : { issues: [{ message: 'needs a title', path: ['title'] }] },
      },
    } as const
    const bus = createBus({ store, schemas: { 'todo.added': titled } })
    const errors: unknown[] = []
    const box = outbox(bus, store, { onError: (e) => errors.push(e) })
    await box.transaction('todos', (tx, publish) => {
      tx.objectStore('todos').put({ id: 'bad' })
      publish('todo.added', { id: 'bad' }, { id: 'evt-bad' })
    })
    await box.transaction('todos', (tx, publish) => {
      tx.objectStore('todos').put({ id: 'ok' })
      publish('todo.added', { id: 'ok', title: 'fine' }, { id: 'evt-ok' })
    })
    await box.drain().catch(() => {})
    expect((await bus.read()).events.map((e) => e.id)).toEqual(['evt-ok'])
    expect(await db.count('tidings-outbox')).toBe(1)
    expect(errors.length).toBeGreaterThan(0)
  })
})
