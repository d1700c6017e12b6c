// Node side of the bridge tests: the real `busApp` over a memory bus, served on 127.0.0.1 with
// node:http, plus knobs the browser tests turn through vitest commands (see vitest.config.ts):
// the network going down, responses lost after the request was processed, streams cut.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { busApp } from '../../adapters/hono/app.js'
import { createBus, type Bus } from '../../src/bus.js'

export interface Knobs {
  /** Every connection is dropped before it is read: the network is down. */
  down?: boolean
  /** The next N POST /events are processed, then their responses are lost (the socket dies). */
  dropResponses?: number
  /** Each stream is cut after this many events (then the client reconnects). */
  cutStreamsAfter?: number
}

interface Running {
  server: Server
  bus: Bus
  knobs: Knobs
  posts: number
  streams: number
  sentIds: string[]
}
const running = new Map<string, Running>()

// busApp has no CORS of its own (it is usually served same-origin or to servers): the test page
// is on vitest's origin, so this wrapper answers preflights and adds the headers.
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, last-event-id',
}

export const startServer = async (token: string): Promise<{ id: string; url: string }> => {
  const bus = createBus()
  const app = busApp({ bus, tokens: { [token]: ['publish:**', 'subscribe:**', 'admin'] } })
  const r: Running = {
    server: undefined as never,
    bus,
    knobs: {},
    posts: 0,
    streams: 0,
    sentIds: [],
  }
  r.server = createServer(async (req, res) => {
    if (r.knobs.down) {
      req.socket.destroy()
      return
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS).end()
      return
    }
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const headers = new Headers()
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
    const abort = new AbortController()
    res.on('close', () => abort.abort())
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method!,
      headers,
      signal: abort.signal,
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }),
    })
    const response = await app.fetch(request)
    const isPost = req.method === 'POST' && req.url === '/events'
    if (isPost) {
      r.posts++
      // Every id a client sent, resends included: what the bridge put on the wire.
      try {
        for (const e of JSON.parse(Buffer.concat(chunks).toString()) as { id: string }[])
          r.sentIds.push(e.id)
      } catch {
        /* not a batch */
      }
    }
    if (isPost && r.knobs.dropResponses) {
      r.knobs.dropResponses--
      await response.text() // processed and stored: only the answer is lost
      req.socket.destroy()
      return
    }
    const out: Record<string, string> = { ...CORS }
    response.headers.forEach((v, k) => {
      out[k] = v
    })
    res.writeHead(response.status, out)
    res.flushHeaders() // a stream sends its headers before its first event
    if (!response.body) {
      res.end()
      return
    }
    const stream = req.url?.startsWith('/stream')
    if (stream) r.streams++
    let events = 0
    const reader = response.body.getReader()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done || res.destroyed) break
        if (
          stream &&
          r.knobs.cutStreamsAfter &&
          (events += Buffer.from(value).toString().split('\n\n').length - 1) >=
            r.knobs.cutStreamsAfter
        ) {
          // The connection dies right after this event left: the client resumes from its cursor.
          await new Promise<void>((ok) => res.write(value, () => ok()))
          res.destroy()
          break
        }
        res.write(value)
      }
    } finally {
      reader.cancel().catch(() => {})
      res.end()
    }
  })
  await new Promise<void>((ok) => r.server.listen(0, '127.0.0.1', ok))
  const id = String((r.server.address() as AddressInfo).port)
  running.set(id, r)
  return { id, url: `http://127.0.0.1:${id}` }
}

const get = (id: string) => {
  const r = running.get(id)
  if (!r) throw new Error(`no test server ${id}`)
  return r
}

export const setKnobs = (id: string, knobs: Knobs) => {
  Object.assign(get(id).knobs, knobs)
}

/** What the server's log holds, oldest first, and how many requests it served. */
export const serverLog = async (id: string) => {
  const r = get(id)
  const events: { id: string; type: string; data: unknown; key?: string }[] = []
  for (let from: string | undefined; ;) {
    const page = await r.bus.read({ limit: 1000, ...(from ? { from } : {}) })
    events.push(
      ...page.events.map((e) => ({
        id: e.id,
        type: e.type,
        data: e.data,
        ...(e.key ? { key: e.key } : {}),
      })),
    )
    if (page.events.length < 1000) break
    from = page.next
  }
  return { events, posts: r.posts, streams: r.streams, sentIds: r.sentIds }
}

export const serverPublish = async (
  id: string,
  events: { type: string; data: unknown; id?: string }[],
) => {
  await get(id).bus.publishMany(events)
}

export const stopServer = async (id: string) => {
  const r = get(id)
  running.delete(id)
  r.server.closeAllConnections()
  await new Promise((ok) => r.server.close(ok))
  await r.bus.close()
}
