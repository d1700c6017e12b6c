// Cross-tab behaviour in real Chromium: each tab is a same-origin iframe with its own realm, so
// BroadcastChannel, Web Locks and IndexedDB connections are per tab, as in real tabs.
import { afterEach, describe, expect, it } from 'vitest'
import type { BusEvent } from '../../src/event.js'
import { openTab, type Tab } from './_tabs.js'
import { unique, until } from './_wait.js'

const tabs: Tab[] = []
const open = async () => {
  const t = await openTab()
  tabs.push(t)
  return t
}
afterEach(() => {
  for (const t of tabs.splice(0)) t.close()
})

describe('cross-tab', () => {
  it('live listeners in every tab see events published in any tab, exactly once each', async () => {
    const name = unique('live')
    const [a, b] = [await open(), await open()]
    const busA = a.api.createBus({ store: a.api.indexedDBStore({ name }) })
    const busB = b.api.createBus({ store: b.api.indexedDBStore({ name }) })
    const seen: Record<'a' | 'b', BusEvent[]> = { a: [], b: [] }
    busA.on('**', (e) => {
      seen.a.push(e)
    })
    busB.on('**', (e) => {
      seen.b.push(e)
    })
    await busA.idle()
    await busB.idle()
    await Promise.all([
      ...[1, 2, 3].map((i) => busA.publish('from.a', a.data({ i }))),
      ...[1, 2, 3].map((i) => busB.publish('from.b', b.data({ i }))),
    ])
    await until(() => seen.a.length >= 6 && seen.b.length >= 6, 'both tabs to see 6 events')
    await new Promise((r) => setTimeout(r, 100)) // room for a duplicate to show up
    for (const s of [seen.a, seen.b]) {
      expect(s.length).toBe(6)
      expect(new Set(s.map((e) => e.id)).size).toBe(6)
      expect(s.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]) // one order, the log's, in both tabs
    }
  })

  it("persists across a page reload: the log and a durable subscription's cursor", async () => {
    const name = unique('reload')
    const t = await open()
    let bus = t.api.createBus({ store: t.api.indexedDBStore({ name }) })
    const handled: unknown[] = []
    let sub = await bus.subscribe('keep', '**', (e) => {
      handled.push(e.data)
    })
    await bus.publish('note.added', t.data({ n: 1 }))
    await until(() => handled.length === 1, 'the first event handled')
    await sub.close()
    await bus.publish('note.added', t.data({ n: 2 })) // published while no handler is attached
    await t.reload()
    bus = t.api.createBus({ store: t.api.indexedDBStore({ name }) })
    expect((await bus.read()).events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }])
    sub = await bus.subscribe('keep', '**', (e) => {
      handled.push(e.data)
    })
    await until(() => handled.length === 2, 'the event published while detached')
    await bus.idle()
    expect(handled).toEqual([{ n: 1 }, { n: 2 }])
  })

  it('a durable subscription runs in one tab and fails over when that tab closes mid-handler', async () => {
    const name = unique('failover')
    const [a, b, c] = [await open(), await open(), await open()]
    const publisher = c.api.createBus({ store: c.api.indexedDBStore({ name }) })
    const storeA = a.api.indexedDBStore({ name })
    const storeB = b.api.indexedDBStore({ name })
    const busA = a.api.createBus({ store: storeA })
    const busB = b.api.createBus({ store: storeB })
    const handled: { tab: string; n: number }[] = []
    let hang = () => {}
    const started = new Promise<void>((r) => {
      hang = r
    })
    await a.api.crossTab(busA, storeA).subscribe(
      'work',
      'job.*',
      a.api.local(async (e: BusEvent) => {
        const n = (e.data as { n: number }).n
        handled.push({ tab: 'a', n })
        if (n === 3) {
          hang()
          await new Promise(() => {})
        } // the tab closes while this runs
      }),
    )
    await b.api.crossTab(busB, storeB).subscribe('work', 'job.*', (e) => {
      handled.push({ tab: 'b', n: (e.data as { n: number }).n })
    })
    for (const n of [1, 2, 3, 4, 5]) await publisher.publish('job.run', c.data({ n }))
    await started
    // Wait until 1 and 2 are acknowledged (the cursor passed them) before closing the tab.
    await until(
      async () => ((await storeB.get('s/work'))?.value as { cursor: number }).cursor >= 3,
      'the acks of 1 and 2',
    )
    expect(handled).toEqual([
      { tab: 'a', n: 1 },
      { tab: 'a', n: 2 },
      { tab: 'a', n: 3 },
    ])
    a.close()
    await until(() => handled.length === 6, 'tab b to take over')
    await new Promise((r) => setTimeout(r, 100))
    // 3 was in flight, so it runs again; what was acknowledged does not.
    expect(handled.slice(3)).toEqual([
      { tab: 'b', n: 3 },
      { tab: 'b', n: 4 },
      { tab: 'b', n: 5 },
    ])
  })

  it('crossTab refuses bad input with a stable code, even in a tab that would wait in line', async () => {
    const t = await open()
    const store = t.api.indexedDBStore({ name: unique('bad') })
    const tabs = t.api.crossTab(t.api.createBus({ store }), store)
    await expect(tabs.subscribe('no spaces', '**', () => {})).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    })
    await expect(tabs.subscribe('ok', 'a..b' as never, () => {})).rejects.toMatchObject({
      code: 'INVALID_PATTERN',
    })
    await tabs.subscribe('ok', '**', () => {})
    await expect(tabs.subscribe('ok', '**', () => {})).rejects.toMatchObject({
      code: 'ALREADY_SUBSCRIBED',
    })
  })

  it('a schedule fires once across three tabs', async () => {
    const name = unique('schedule')
    const ts = [await open(), await open(), await open()]
    const clock = ts[0]!.api.manualClock(1_800_000_000_000)
    const seen: string[][] = [[], [], []]
    const buses = ts.map((t, i) => {
      const bus = t.api.createBus({ store: t.api.indexedDBStore({ name }), clock })
      bus.on('heartbeat', (e) => {
        seen[i]!.push(e.id)
      })
      return bus
    })
    // Every tab runs the same app code, so each registers the schedule at boot.
    for (const [i, bus] of buses.entries())
      await bus.schedule('beat', ts[i]!.data({ every: 60_000, type: 'heartbeat', data: {} }))
    await clock.advance(3 * 60_000)
    for (const bus of buses) await bus.idle()
    await until(() => seen.every((s) => s.length >= 3), 'every tab to see 3 beats')
    await new Promise((r) => setTimeout(r, 100))
    const { events } = await buses[0]!.read({ pattern: 'heartbeat' })
    expect(events.length).toBe(3)
    expect(events.map((e) => e.id)).toEqual(
      [1, 2, 3].map(
        (k) => `schedule:beat:${1_800_000_000_000 - (1_800_000_000_000 % 60_000) + k * 60_000}`,
      ),
    )
    for (const s of seen) expect(s).toEqual(events.map((e) => e.id))
  })
})
