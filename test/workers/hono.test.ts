import { upgradeWebSocket } from 'hono/cloudflare-workers'
import { describe, expect, it } from 'vitest'
import { busApp } from '../../adapters/hono/index.js'
import { fromCloudEvent } from '../../src/cloudevent.js'
import type { BusEvent } from '../../src/event.js'
import { freshBus } from './helpers.js'

// The HTTP app of tidings/hono inside workerd, over the sharded Cloudflare bus: the same app as in
// Node, knowing nothing of shards. /stream tails the log (the Worker-side client has no `on`).
const setup = () => {
  const bus = freshBus(3)
  return busApp({ bus, auth: false, stream: { poll: 20 }, upgradeWebSocket })
}
const json = async (r: Response | Promise<Response>): Promise<any> => (await r).json()
const post = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
})

/** Reads SSE frames until `n` arrived, then hangs up. */
const sse = async (res: Response, n: number) => {
  const reader = res.body!.getReader()
  const frames: { id: string; data: BusEvent }[] = []
  let text = ''
  while (frames.length < n) {
    const { value, done } = await reader.read()
    if (done) break
    text += new TextDecoder().decode(value)
    for (let cut; (cut = text.indexOf('\n\n')) >= 0; text = text.slice(cut + 2)) {
      const frame = text.slice(0, cut)
      const get = (k: string) =>
        frame
          .split('\n')
          .find((l) => l.startsWith(`${k}:`))
          ?.slice(k.length + 1)
          .trim() ?? ''
      if (get('data'))
        frames.push({ id: get('id'), data: fromCloudEvent(JSON.parse(get('data'))) as BusEvent })
    }
  }
  await reader.cancel()
  return frames
}

describe('busApp over the Cloudflare bus, in workerd', () => {
  it('publishes (one, a batch, a retry), reads pages with cursors over every shard', async () => {
    const app = setup()
    const one = await json(
      app.request(
        '/events',
        post({ type: 'order.placed', data: { n: 0 }, key: 'k0' }, { 'idempotency-key': 'req-1' }),
      ),
    )
    expect(one).toMatchObject({ id: 'req-1', duplicate: false })
    expect(
      await json(
        app.request(
          '/events',
          post({ type: 'order.placed', data: { n: 0 }, key: 'k0' }, { 'idempotency-key': 'req-1' }),
        ),
      ),
    ).toEqual({ ...one, duplicate: true, cursor: expect.any(String) })
    const batch = await json(
      app.request(
        '/events',
        post([1, 2, 3, 4, 5].map((n) => ({ type: 'order.placed', data: { n }, key: `k${n}` }))),
      ),
    )
    expect(batch.map((r: { duplicate: boolean }) => r.duplicate)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ])
    expect(new Set(batch.map((r: { id: string }) => r.id)).size).toBe(5)
    const p1 = await json(app.request('/events?topic=order.*&limit=4'))
    const p2 = await json(app.request(`/events?topic=order.*&from=${p1.next}`))
    expect(
      [...p1.events, ...p2.events].map((e: { data: { n: number } }) => e.data.n).sort(),
    ).toEqual([0, 1, 2, 3, 4, 5])
    expect((await app.request('/events?from=c1')).status).toBe(400)
    expect((await app.request('/stats')).status).toBe(200)
  })

  it('streams over SSE and resumes from any id, mid-page too, with no gap and no duplicate across shards', async () => {
    const app = setup()
    for (let n = 1; n <= 3; n++)
      await app.request('/events', post({ type: 'order.placed', data: { n }, key: `k${n}` }))
    // From the cursor after the first event of the merged log: the other two are the backlog.
    const head = await json(app.request('/events?limit=1'))
    const after1 = head.next as string
    const first = sse(
      await app.request(`/stream?topic=order.*&from=${encodeURIComponent(after1)}`),
      3,
    )
    await app.request('/events', post({ type: 'user.created', data: { n: 99 } }))
    await app.request('/events', post({ type: 'order.placed', data: { n: 4 }, key: 'k4' }))
    const seen = await first
    const ns = (fs: { data: BusEvent }[]) => fs.map((f) => (f.data.data as { n: number }).n)
    const firstSeen = ns(seen)
    expect(firstSeen.sort()).toEqual([1, 2, 3, 4].filter((n) => n !== head.events[0].data.n))
    for (let n = 5; n <= 6; n++)
      await app.request('/events', post({ type: 'order.placed', data: { n }, key: `k${n}` }))
    const again = await sse(
      await app.request('/stream?topic=order.*', { headers: { 'last-event-id': seen[0]!.id } }),
      4,
    )
    // After the first frame: the other two of the first connection, then 5 and 6, each once.
    expect([...ns(again)].sort()).toEqual([...ns(seen.slice(1)), 5, 6].sort())
  })

  it('streams over a WebSocket (hono/cloudflare-workers) with the same ids', async () => {
    const app = setup()
    // From the end, by cursor: no sleep decides whether the feed started before the publishes.
    const end = (await json(app.request('/events?from=latest'))).next as string
    const res = await app.request(`/stream?topic=order.*&from=${encodeURIComponent(end)}`, {
      headers: { upgrade: 'websocket' },
    })
    expect(res.status).toBe(101)
    const ws = res.webSocket!
    ws.accept()
    const got: { id: string; event: BusEvent }[] = []
    ws.addEventListener('message', (m) => {
      const f = JSON.parse(String(m.data))
      got.push({ id: f.id, event: fromCloudEvent(f.event) as BusEvent })
    })
    // hono's Workers helper has no open event: the first message from the client starts the stream.
    ws.send('start')
    for (let n = 1; n <= 3; n++)
      await app.request('/events', post({ type: 'order.placed', data: { n }, key: `k${n}` }))
    for (const until = Date.now() + 5000; got.length < 3 && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 20))
    ws.close()
    expect(got.map((f) => (f.event.data as { n: number }).n).sort()).toEqual([1, 2, 3])
    const resumed = await sse(
      await app.request(`/stream?topic=order.*&from=${encodeURIComponent(got[0]!.id)}`),
      2,
    )
    expect(resumed.map((f) => f.data.id)).toEqual(got.slice(1).map((f) => f.event.id))
  })

  it('answers 409 CONFLICT for an id taken by an event of another type, over a sharded bus too', async () => {
    const bus = freshBus(3)
    const app = busApp({ bus, auth: false, stream: { poll: 20 } })
    await bus.publish('invoice.sent', { n: 1 }, { id: 'shared-id' })
    const taken = await app.request(
      '/events',
      post({ type: 'order.placed', data: 1 }, { 'idempotency-key': 'shared-id' }),
    )
    expect([taken.status, (await json(taken)).error?.code]).toEqual([409, 'CONFLICT'])
  })
})
