import { describe, expect, it } from 'vitest'
import { encodeCursor, type BusEvent } from '../../src/event.js'
import { fromTagged } from '../../src/tagged.js'
import { eventually, freshBus } from './helpers.js'

/** A client socket that collects what the object sends. */
const open = async (bus: ReturnType<typeof freshBus>, query: string) => {
  const res = await bus.connect(
    new Request(`http://bus/stream?${query}`, { headers: { Upgrade: 'websocket' } }),
    0,
  )
  expect(res.status).toBe(101)
  const ws = res.webSocket!
  ws.accept()
  const got: { cursor: string; event: BusEvent }[] = []
  ws.addEventListener('message', (m) =>
    got.push(fromTagged(JSON.parse(m.data as string)) as { cursor: string; event: BusEvent }),
  )
  return { ws, got, ack: (cursor: string) => ws.send(JSON.stringify({ ack: cursor })) }
}
const ns = (got: { event: BusEvent }[]) => got.map((g) => (g.event.data as { n: number }).n)

describe('live WebSocket subscribers (hibernation API)', () => {
  it('evaluates pattern and filter in the object, and resumes from a cursor with no gap and no duplicate', async () => {
    const bus = freshBus(1)
    const a = await open(
      bus,
      `pattern=chat.*&filter=${encodeURIComponent(JSON.stringify({ data: { room: ['blue'] } }))}`,
    )
    for (let n = 0; n < 6; n++)
      await bus.publish('chat.message', { n, room: n % 3 ? 'blue' : 'red' })
    await bus.publish('other.thing', { n: 99, room: 'blue' })
    await eventually(async () => a.got.length >= 4, 'four live messages')
    expect(ns(a.got)).toEqual([1, 2, 4, 5])
    expect(a.got.map((g) => g.event.type).every((t) => t === 'chat.message')).toBe(true)
    // Disconnect after the second message; publish more while away; resume from its cursor.
    const cursor = a.got[1]!.cursor
    a.ws.close(1000)
    for (let n = 6; n < 9; n++) await bus.publish('chat.message', { n, room: 'blue' })
    const b = await open(
      bus,
      `pattern=chat.*&filter=${encodeURIComponent(JSON.stringify({ data: { room: ['blue'] } }))}&from=${cursor}`,
    )
    await eventually(async () => b.got.length >= 5, 'the backlog')
    await bus.publish('chat.message', { n: 9, room: 'blue' })
    await eventually(async () => b.got.length >= 6, 'then live')
    await new Promise((r) => setTimeout(r, 50))
    expect(ns(b.got)).toEqual([4, 5, 6, 7, 8, 9])
  })

  it('refuses a bad pattern, filter or cursor before upgrading', async () => {
    const bus = freshBus(1)
    for (const q of [
      'pattern=a..b',
      `filter=${encodeURIComponent('{"data":{"x":[{"nope":1}]}}')}`,
      'filter=not-json',
      'from=zzz',
    ]) {
      const res = await bus.connect(
        new Request(`http://bus/stream?${q}`, { headers: { Upgrade: 'websocket' } }),
        0,
      )
      expect(res.status).toBe(400)
      expect([q, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([
        q,
        expect.stringMatching(/^INVALID_/),
      ])
    }
    await expect(bus.connect(new Request('http://bus/stream'), 5)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    })
  })

  it('a slow client is paused after maxUnacked positions and resumes when it acknowledges', async () => {
    const bus = freshBus(1)
    const c = await open(bus, `from=${encodeCursor([1])}`)
    await bus.publishMany(
      Array.from({ length: 50 }, (_, n) => ({ type: 'load.tick', data: { n } })),
    )
    await eventually(async () => c.got.length >= 20, 'the first 20')
    await new Promise((r) => setTimeout(r, 100))
    // The test object allows 20 unacknowledged positions: nothing more is sent or held for it.
    expect(c.got).toHaveLength(20)
    c.ack(c.got[19]!.cursor)
    await eventually(async () => c.got.length >= 40, 'the next 20')
    c.ack(c.got[39]!.cursor)
    await eventually(async () => c.got.length >= 50, 'the rest')
    expect(ns(c.got)).toEqual(Array.from({ length: 50 }, (_, n) => n))
  })

  it('a filtered client is not paused by events it was never sent (it has nothing to ack for them)', async () => {
    const bus = freshBus(1)
    const c = await open(bus, 'pattern=rare.*')
    // More non-matching positions than the object's maxUnacked (20): none of them is sent.
    await bus.publishMany(
      Array.from({ length: 30 }, (_, n) => ({ type: 'common.tick', data: { n } })),
    )
    await bus.publish('rare.event', { n: 100 })
    await eventually(async () => c.got.length >= 1, 'the one matching event', 2000)
    expect(ns(c.got)).toEqual([100])
  })
})
