import { serve, upgradeWebSocket, type ServerType } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { busApp } from '../adapters/hono/index.js'
import { createBus } from '../src/bus.js'
import { fromCloudEvent } from '../src/cloudevent.js'
import type { BusEvent } from '../src/event.js'

// GET /stream over a real WebSocket: a node:http server with @hono/node-server's upgrade and a
// `ws` client, as a Node deployment runs it.
const READER = 'reader-token'
const tokens = { [READER]: ['subscribe:order.*'], admin: ['admin'] } as const
const servers: ServerType[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})

const start = async (limits: { streamQueue?: number } = {}) => {
  const bus = createBus({ onError: () => {} })
  const app = busApp({ bus, tokens: tokens as never, upgradeWebSocket, limits })
  const wss = new WebSocketServer({ noServer: true })
  const server = serve({
    fetch: app.fetch,
    port: 0,
    hostname: '127.0.0.1',
    websocket: { server: wss as never },
  })
  servers.push(server)
  await new Promise((r) => server.once('listening', r))
  return { bus, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** A bus whose `live()` says how many `on` listeners are registered right now. */
const countingListeners = () => {
  const inner = createBus({ onError: () => {} })
  let n = 0
  const on = (...a: Parameters<typeof inner.on>) => {
    n++
    const off = inner.on(...a)
    let done = false
    return () => {
      if (!done) {
        done = true
        n--
      }
      off()
    }
  }
  return { bus: { ...inner, on } as typeof inner, live: () => n }
}

interface Frame {
  id: string
  event: BusEvent
}
/** Opens a socket and collects its frames; `until(n)` waits for n of them. */
const open = (
  url: string,
  headers: Record<string, string> = { authorization: `Bearer ${READER}` },
) => {
  const ws = new WebSocket(url, { headers })
  const frames: Frame[] = []
  let wake = () => {}
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => {
      wake()
      r({ code, reason: String(reason) })
    }),
  )
  ws.on('message', (m) => {
    const f = JSON.parse(String(m))
    frames.push({ id: f.id, event: fromCloudEvent(f.event) as BusEvent })
    wake()
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_q, res) => reject(new Error(String(res.statusCode))))
  })
  return {
    ws,
    frames,
    opened,
    closed,
    async until(n: number) {
      while (frames.length < n)
        await new Promise<void>((r) => {
          wake = r
          setTimeout(r, 50)
        })
    },
  }
}

describe('GET /stream over WebSocket', () => {
  it('sends live events matching the pattern and the filter as CloudEvents with resumable ids', async () => {
    const { bus, url } = await start()
    const filter = encodeURIComponent(JSON.stringify({ data: { total: [{ numeric: ['>', 10] }] } }))
    const c = open(`${url}/stream?topic=order.*&filter=${filter}`)
    await c.opened
    await bus.publish('order.placed', { total: 5 })
    await bus.publish('user.created', { total: 50 })
    await bus.publish('order.placed', { total: 20 }, { id: 'o-20' })
    await bus.publish('order.shipped', { total: 30, at: new Date(0) })
    await c.until(2)
    expect(c.frames.map((f) => f.event.id)).toEqual(['o-20', expect.any(String)])
    expect(c.frames[1]!.event.data).toEqual({ total: 30, at: new Date(0) })
    c.ws.close()
  })

  it('resumes after a dropped connection from ?from=<last id> with no gap and no duplicate', async () => {
    const { bus, url } = await start()
    const first = open(`${url}/stream?topic=order.*`)
    await first.opened
    for (let i = 0; i < 5; i++) await bus.publish('order.placed', { n: i })
    await first.until(3)
    first.ws.terminate()
    await first.closed
    const seen = first.frames.slice(0, 3)
    for (let i = 5; i < 10; i++) await bus.publish('order.placed', { n: i })
    const second = open(`${url}/stream?topic=order.*&from=${seen.at(-1)!.id}`)
    await second.opened
    for (let i = 10; i < 12; i++) await bus.publish('order.placed', { n: i })
    await second.until(9)
    const all = [...seen, ...second.frames].map((f) => (f.event.data as { n: number }).n)
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    second.ws.close()
  })

  it('takes the token as ?access_token= (browsers cannot set headers) and checks its scope', async () => {
    const { url } = await start()
    const ok = open(`${url}/stream?topic=order.*&access_token=${READER}`, {})
    await ok.opened
    ok.ws.close()
    await expect(
      open(`${url}/stream?topic=user.*&access_token=${READER}`, {}).opened,
    ).rejects.toThrow('403')
    await expect(open(`${url}/stream?topic=order.*`, {}).opened).rejects.toThrow('401')
    await expect(open(`${url}/stream?topic=order.*&from=nope`).opened).rejects.toThrow('400')
  })

  it('closes a client that stops reading with 1013 once its queue is full, instead of buffering without bound', async () => {
    const { bus, url } = await start({ streamQueue: 20 })
    const c = open(`${url}/stream?topic=order.*`)
    await c.opened
    // The client stops reading: the socket's buffers fill, then the feed's queue.
    ;(c.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    const big = 'x'.repeat(64 * 1024)
    for (let i = 0; i < 400; i++) await bus.publish('order.placed', { big })
    ;(c.ws as unknown as { _socket: { resume(): void } })._socket.resume()
    const { code } = await c.closed
    expect(code).toBe(1013)
    // What it got before the cut is a prefix of the log: it can resume from the last id.
    expect(c.frames.length).toBeLessThan(400)
    const log = (await bus.read({ limit: 400 })).events.map((e) => e.id)
    expect(c.frames.map((f) => f.event.id)).toEqual(log.slice(0, c.frames.length))
  })
})

describe('GET /stream over WebSocket: a socket that closes before its feed starts', () => {
  it('leaves no listener on the bus (helpers with no open event, a client gone before its first message)', async () => {
    const { bus, live } = countingListeners()
    let events: { onClose?: (e: unknown, ws: unknown) => void } | undefined
    // As hono/cloudflare-workers' helper: no open event; the feed starts on the client's first message.
    const upgradeWebSocket = ((_c: unknown, e: typeof events) => {
      events = e
      return new Response(null, { status: 200 })
    }) as never
    const app = busApp({ bus, auth: false, upgradeWebSocket })
    const res = await app.request('/stream?topic=order.*', { headers: { upgrade: 'websocket' } })
    expect(res.status).toBe(200)
    expect(live()).toBe(1)
    events!.onClose!({}, {})
    expect(live()).toBe(0)
  })
})

describe('the live feed behind /stream', () => {
  it('stays bounded while a slow client is still being sent its backlog', async () => {
    const { openFeed } = await import('../adapters/hono/_feed.js')
    // Counts the feed's live listeners: an overflowed feed must hold none (nor their queue).
    const { bus, live } = countingListeners()
    for (let n = 0; n < 3; n++) await bus.publish('order.placed', { n })
    let release = () => {}
    const feed = openFeed(bus, { pattern: '**', test: () => true, from: 'c1', queue: 5 })
    // The client takes the first backlog event and then stops reading.
    const ended = feed.run(
      () =>
        new Promise<void>((r) => {
          release = r
        }),
    )
    await new Promise((r) => setTimeout(r, 10))
    expect(live()).toBe(1)
    for (let n = 0; n < 50; n++) await bus.publish('order.placed', { n })
    // Past the bound the feed ends as 'overflow' (the client resumes from the log) rather than
    // queueing every live event until the backlog is through.
    const outcome = await Promise.race([
      ended,
      new Promise((r) => setTimeout(() => r('still queueing'), 50)),
    ])
    release()
    expect(outcome).toBe('overflow')
    expect(live()).toBe(0)
  })
})
