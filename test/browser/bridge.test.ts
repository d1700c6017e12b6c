// The offline-first bridge in real Chromium against the real busApp (over a memory bus) served
// from Node: offline, flapping networks, lost responses and cut streams.
import { afterEach, describe, expect, it } from 'vitest'
import { createBus, type Bus } from '../../src/bus.js'
import { TidingsError } from '../../src/errors.js'
import { memoryStore } from '../../src/store/memory.js'
import type { BusEvent } from '../../src/event.js'
import { bridge, indexedDBStore, type Bridge } from '../../adapters/indexeddb/index.js'
import { server } from './_commands.js'
import { openTab, type Tab } from './_tabs.js'
import { unique, until } from './_wait.js'

const TOKEN = 'test-token'
const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

const setup = async (
  o: { forward?: string; receive?: string; backoff?: { initial: number; max: number } } = {},
) => {
  const { id, url } = await server.startServer(TOKEN)
  cleanup.push(() => server.stopServer(id))
  cleanup.push(() => server.network(url, true))
  const store = indexedDBStore({ name: unique('bridge') })
  const bus = createBus({ store })
  cleanup.push(() => bus.close())
  const b = bridge(bus, { store, url, token: TOKEN, backoff: { initial: 20, max: 200 }, ...o })
  cleanup.push(() => b.close())
  return { id, url, bus, bridge: b, store }
}

const byKey = (events: { id: string; key?: string }[]) => {
  const out: Record<string, string[]> = {}
  for (const e of events) (out[e.key ?? ''] ??= []).push(e.id)
  return out
}

describe('bridge', () => {
  it(
    'offline, 100 published, online: the server receives exactly 100, in order per key',
    { timeout: 30_000 },
    async () => {
      const { id, url, bus, bridge: b } = await setup({ forward: 'order.**' })
      await server.network(url, false)
      const local: BusEvent[] = []
      bus.on('order.**', (e) => {
        local.push(e)
      })
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          bus.publish('order.placed', { i }, { key: `k${i % 7}` }),
        ),
      )
      await until(
        () => b.status.pending === 100 && b.status.lastError !== undefined,
        'pending to count 100 and a send to fail',
      )
      expect(b.status.online).toBe(false)
      await new Promise((r) => setTimeout(r, 100))
      expect((await server.serverLog(id)).events).toEqual([])
      await server.network(url, true)
      await until(
        async () => (await server.serverLog(id)).events.length >= 100 && b.status.pending === 0,
        'the server to hold 100 and nothing pending',
        20_000,
      )
      const remote = await server.serverLog(id)
      expect(remote.events.length).toBe(100)
      expect(new Set(remote.events.map((e) => e.id))).toEqual(new Set(local.map((e) => e.id)))
      expect(byKey(remote.events)).toEqual(byKey(local.map((e) => ({ id: e.id, key: e.key! }))))
      expect(b.status.online).toBe(true)
      expect(b.status.lastSyncAt).toBeTypeOf('number')
    },
  )

  it(
    'a network that flaps during a flush loses nothing and duplicates nothing',
    { timeout: 30_000 },
    async () => {
      const { id, url, bus, bridge: b } = await setup({ forward: 'order.**' })
      // The first three requests are stored by the server, but their answers never arrive.
      await server.setKnobs(id, { dropResponses: 3 })
      const local: string[] = []
      bus.on('order.**', (e) => {
        local.push(e.id)
      })
      await Promise.all(Array.from({ length: 250 }, (_, i) => bus.publish('order.placed', { i })))
      // And the browser drops off the network mid-flush: once the server has taken some requests
      // (their answers lost) and while events are still waiting to go.
      // The first three answers are lost, so after two requests the flush cannot be over yet.
      await until(async () => (await server.serverLog(id)).posts >= 2, 'the flush under way')
      await server.network(url, false)
      await new Promise((r) => setTimeout(r, 100))
      await server.network(url, true)
      await until(
        async () => (await server.serverLog(id)).events.length >= 250 && b.status.pending === 0,
        'all 250 at the server',
        20_000,
      )
      const remote = await server.serverLog(id)
      expect(remote.events.length).toBe(250)
      expect(new Set(remote.events.map((e) => e.id))).toEqual(new Set(local))
      // The lost answers were resent: more ids went over the wire than the server stored.
      expect(remote.sentIds.length).toBeGreaterThan(250)
      expect(b.status.lastError).toBeInstanceOf(Error)
    },
  )

  it('streams remote events in from a resumable cursor: cut streams leave no gap and no duplicate, and nothing goes back', async () => {
    const { id, bus, bridge: b } = await setup({ forward: '**', receive: 'catalog.**' })
    await until(() => b.status.receiving, 'the stream to open')
    await server.setKnobs(id, { cutStreamsAfter: 7 })
    const seen: BusEvent[] = []
    bus.on('catalog.**', (e) => {
      seen.push(e)
    })
    const sent = Array.from({ length: 60 }, (_, i) => ({
      type: 'catalog.updated',
      data: { i },
      id: `remote-${i}`,
    }))
    for (let i = 0; i < 60; i += 20) await server.serverPublish(id, sent.slice(i, i + 20))
    await until(() => seen.length >= 60, '60 remote events locally', 10_000).catch(async (e) => {
      throw new Error(
        `${e.message}: seen ${seen.length} ${JSON.stringify(b.status)} ${String(b.status.lastError)} ${JSON.stringify(await server.serverLog(id).then((l) => [l.streams, l.events.length]))}`,
      )
    })
    await new Promise((r) => setTimeout(r, 200))
    expect(seen.map((e) => e.id)).toEqual(sent.map((e) => e.id))
    const remote = await server.serverLog(id)
    expect(remote.streams).toBeGreaterThan(5) // it did reconnect, resuming each time
    expect(remote.sentIds.filter((s) => s.startsWith('remote-'))).toEqual([]) // not forwarded back
    // A local event still goes out.
    await bus.publish('note.added', {})
    await until(
      async () => (await server.serverLog(id)).events.length === 61,
      'the local event at the server',
    )
  })

  it('received events the local store fails to append (STORAGE_FULL) are received again, not skipped by the stored cursor', async () => {
    const { id, url } = await server.startServer(TOKEN)
    cleanup.push(() => server.stopServer(id))
    const store = indexedDBStore({ name: unique('bridge') })
    // The local bus's own storage fails for a while (a full quota); the bridge's cursor store is fine.
    const inner = memoryStore()
    let full = false
    const bus = createBus({
      store: {
        ...inner,
        commit: (c) =>
          full ? Promise.reject(new TidingsError('STORAGE_FULL', 'quota')) : inner.commit(c),
      },
    })
    cleanup.push(() => bus.close())
    const errors: unknown[] = []
    const b = bridge(bus, {
      store,
      url,
      token: TOKEN,
      receive: 'catalog.**',
      backoff: { initial: 20, max: 50 },
      onError: (e) => {
        errors.push(e)
      },
    })
    cleanup.push(() => b.close())
    await until(() => b.status.receiving, 'the stream to open')
    full = true
    await server.serverPublish(
      id,
      [1, 2, 3].map((n) => ({ type: 'catalog.updated', data: { n }, id: `r${n}` })),
    )
    await until(() => errors.length > 0 || b.status.lastError !== undefined, 'the append to fail')
    await new Promise((r) => setTimeout(r, 100))
    full = false
    await server.serverPublish(id, [{ type: 'catalog.updated', data: { n: 4 }, id: 'r4' }])
    await until(
      async () => (await bus.read()).events.some((e) => e.id === 'r4'),
      'the event after the failure',
    )
    expect((await bus.read()).events.map((e) => e.id)).toEqual(['r1', 'r2', 'r3', 'r4'])
  })

  it('resumes the stream after a reload from the stored cursor', async () => {
    const { id, store, bus, bridge: b } = await setup({ receive: 'catalog.**' })
    await until(() => b.status.receiving, 'the stream to open')
    await server.serverPublish(id, [{ type: 'catalog.updated', data: { n: 1 }, id: 'r1' }])
    await until(async () => (await bus.read()).events.length === 1, 'the first remote event')
    await b.close()
    // Published while this page is away: the next page picks it up from the cursor.
    await server.serverPublish(id, [{ type: 'catalog.updated', data: { n: 2 }, id: 'r2' }])
    const again = bridge(bus, {
      store,
      url: `http://127.0.0.1:${id}`,
      token: TOKEN,
      receive: 'catalog.**',
      backoff: { initial: 20, max: 200 },
    })
    cleanup.push(() => again.close())
    await until(
      async () => (await bus.read()).events.length === 2,
      'the event published while away',
    )
    expect((await bus.read()).events.map((e) => e.id)).toEqual(['r1', 'r2'])
  })

  it('wakes on the online event instead of sleeping out its backoff', async () => {
    const {
      id,
      url,
      bus,
      bridge: b,
    } = await setup({ forward: 'order.**', backoff: { initial: 60_000, max: 60_000 } })
    await server.network(url, false)
    await bus.publish('order.placed', {})
    await until(() => b.status.lastError !== undefined, 'the first attempt to fail')
    await server.network(url, true)
    // What the browser fires when the network comes back (context.setOffline would cut vitest's channel).
    dispatchEvent(new Event('online'))
    await until(
      async () => (await server.serverLog(id)).events.length === 1,
      'the event at the server',
      2000,
    )
  })

  it('with nothing pending, status.online comes back after a flap: the online event and a probe confirm it', async () => {
    const { id, url, bridge: b } = await setup({ forward: 'order.**' })
    await until(() => b.status.online, 'the first probe to reach the server')
    await server.network(url, false)
    dispatchEvent(new Event('offline'))
    expect(b.status.online).toBe(false)
    await server.network(url, true)
    // What the browser fires when the network comes back: nothing is pending, so no send confirms it.
    dispatchEvent(new Event('online'))
    await until(() => b.status.online, 'online again with nothing to send')
    expect(b.status.pending).toBe(0)
    expect((await server.serverLog(id)).posts).toBe(0)
  })

  it('a server outage without any browser event: status.online goes false on a probe and comes back on a later one', async () => {
    const { id, url, bridge: b } = await setup({ forward: 'order.**' })
    await until(() => b.status.online, 'the first probe to reach the server')
    await server.network(url, false)
    b.sync() // try now: the probe fails
    await until(() => !b.status.online, 'the failed probe to show')
    await server.network(url, true)
    await until(() => b.status.online, 'a later probe to get through')
    expect((await server.serverLog(id)).posts).toBe(0)
  })

  it('sending says which tab holds the sending lock, before anything is sent; another tab takes it when that one closes', async () => {
    const { id, url } = await server.startServer(TOKEN)
    cleanup.push(() => server.stopServer(id))
    const name = unique('bridge')
    const tabs: Tab[] = [await openTab(), await openTab()]
    cleanup.push(async () => {
      for (const t of tabs) t.close()
    })
    const bridges = tabs.map((t) => {
      const store = t.api.indexedDBStore({ name })
      return t.api.bridge(t.api.createBus({ store }), {
        store,
        url,
        token: TOKEN,
        forward: 'order.**',
        backoff: { initial: 20, max: 200 },
      })
    })
    await Promise.all(bridges.map((b) => b.ready))
    await until(() => bridges.some((b) => b.status.sending), 'one tab to hold the sending lock')
    const holder = bridges.findIndex((b) => b.status.sending)
    const other = 1 - holder
    expect(bridges[other]!.status.sending).toBe(false)
    expect((await server.serverLog(id)).posts).toBe(0) // nothing had to be sent for it to say so
    tabs[holder]!.close()
    await until(() => bridges[other]!.status.sending, 'the other tab to take the sending half over')
  })

  it("a refused token (401) keeps events waiting: it is not the events' fault, so none is dead-lettered", async () => {
    const { id, url } = await server.startServer(TOKEN)
    cleanup.push(() => server.stopServer(id))
    const store = indexedDBStore({ name: unique('bridge') })
    const bus = createBus({ store })
    cleanup.push(() => bus.close())
    const b = bridge(bus, {
      store,
      url,
      token: 'expired-token',
      forward: 'order.**',
      backoff: { initial: 20, max: 50 },
    })
    cleanup.push(() => b.close())
    await b.ready
    for (let i = 0; i < 3; i++) await bus.publish('order.placed', { i })
    await until(() => b.status.lastError !== undefined, 'a send to be refused')
    await new Promise((r) => setTimeout(r, 300))
    expect(await bus.deadLetters.list()).toEqual([])
    await until(() => b.status.pending === 3, 'all three still pending')
  })

  it('an event the server answers with a per-item error (an id of another type: CONFLICT) is dead-lettered, not taken as sent', async () => {
    const { id, bus, bridge: b } = await setup({ forward: 'order.**' })
    await server.serverPublish(id, [{ type: 'invoice.sent', data: 1, id: 'shared-id' }])
    await b.ready
    await bus.publish('order.placed', { n: 1 }, { id: 'shared-id' })
    await bus.publish('order.placed', { n: 2 }, { id: 'fresh-id' })
    await until(
      async () => (await server.serverLog(id)).events.some((e) => e.id === 'fresh-id'),
      'the other event to arrive',
    )
    await until(
      async () => (await bus.deadLetters.list()).length === 1,
      'the refused event to be dead-lettered',
    )
    expect((await bus.deadLetters.list()).map((d) => d.event.id)).toEqual(['shared-id'])
  })

  it('forwards the events of a local schedule (ids schedule:<name>:<tick>)', async () => {
    const { id, bus, bridge: b } = await setup({ forward: 'order.**' })
    await b.ready
    await bus.schedule('reminder', { every: 200, type: 'order.reminder', data: {} })
    const ticks = async () =>
      (await bus.read()).events.map((e) => e.id).filter((i) => /^schedule:reminder:\d+$/.test(i))
    await until(async () => (await ticks()).length >= 2, 'two local ticks')
    const [first, second] = await ticks()
    // The server stores them under their own ids, in order, and nothing is dead-lettered.
    await until(
      async () => (await server.serverLog(id)).events.some((e) => e.id === second),
      'the second tick at the server',
    )
    const remote = (await server.serverLog(id)).events.map((e) => e.id)
    expect(remote.slice(0, 2)).toEqual([first, second])
    expect(await bus.deadLetters.list()).toEqual([])
  })

  it('refuses bad options with a stable code', () => {
    const store = indexedDBStore({ name: unique('bad') })
    const bus = createBus({ store }) as Bus
    expect(() => bridge(bus, { store, url: 'ftp://x', forward: '**' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    )
    expect(() => bridge(bus, { store, url: 'http://x', forward: 'a..b' })).toThrow(
      expect.objectContaining({ code: 'INVALID_PATTERN' }),
    )
  })
})
