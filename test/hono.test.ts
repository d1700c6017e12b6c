import { describe, expect, it } from 'vitest'
import { busApp, signStandard } from '../adapters/hono/index.js'
import { createBus } from '../src/bus.js'
import { fromCloudEvent, toCloudEvent } from '../src/cloudevent.js'
import { NonRetriableError } from '../src/errors.js'
import type { BusEvent } from '../src/event.js'
import { manualClock } from '../src/testing.js'

const ADMIN = 'admin-token'
const ORDERS = 'orders-token'
const READER = 'reader-token'
const tokens = {
  [ADMIN]: ['admin'],
  [ORDERS]: ['publish:order.**'],
  [READER]: ['subscribe:order.*'],
} as const
const auth = (token: string) => ({ authorization: `Bearer ${token}` })
const json = (token: string, body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { ...auth(token), 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
})

const setup = (o: Partial<Parameters<typeof busApp>[0]> = {}) => {
  const bus = createBus({ clock: manualClock(1_000_000), onError: () => {} })
  return { bus, app: busApp({ bus, tokens: tokens as never, ...o }) }
}

/** Reads SSE frames from a streaming response until `n` events arrived, then hangs up. */
const sse = async (res: Response, n: number) => {
  const reader = res.body!.getReader()
  const frames: { id: string; event: string; data: BusEvent }[] = []
  let text = ''
  while (frames.length < n) {
    const { value, done } = await reader.read()
    if (done) break
    text += new TextDecoder().decode(value)
    let cut
    while ((cut = text.indexOf('\n\n')) >= 0) {
      const frame = text.slice(0, cut)
      text = text.slice(cut + 2)
      const get = (k: string) =>
        frame
          .split('\n')
          .find((l) => l.startsWith(`${k}:`))
          ?.slice(k.length + 1)
          .trim() ?? ''
      if (get('data'))
        frames.push({
          id: get('id'),
          event: get('event'),
          data: fromCloudEvent(JSON.parse(get('data'))) as BusEvent,
        })
    }
  }
  await reader.cancel()
  return frames
}

describe('auth', () => {
  it('is closed by default: with no tokens every route but /health answers 401', async () => {
    const bus = createBus()
    const app = busApp({ bus })
    expect((await app.request('/health')).status).toBe(200)
    const r = await app.request('/events', json('anything', { type: 't', data: 1 }))
    expect(r.status).toBe(401)
    expect(await r.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'unknown token' } })
    expect((await app.request('/stats')).status).toBe(401)
  })

  it('auth: false opens every route', async () => {
    const bus = createBus()
    const app = busApp({ bus, auth: false })
    expect(
      (
        await app.request('/events', {
          method: 'POST',
          body: JSON.stringify({ type: 't', data: 1 }),
        })
      ).status,
    ).toBe(200)
    expect((await app.request('/stats')).status).toBe(200)
  })

  it('scopes: publish and subscribe by pattern, admin for the rest', async () => {
    const { app } = setup()
    expect(
      (await app.request('/events', json(ORDERS, { type: 'order.placed', data: 1 }))).status,
    ).toBe(200)
    const denied = await app.request('/events', json(ORDERS, { type: 'user.created', data: 1 }))
    expect(denied.status).toBe(403)
    expect((await denied.json()).error.code).toBe('FORBIDDEN')
    expect((await app.request('/events?topic=order.*', { headers: auth(READER) })).status).toBe(200)
    expect((await app.request('/events?topic=order.**', { headers: auth(READER) })).status).toBe(
      403,
    )
    expect((await app.request('/events', { headers: auth(READER) })).status).toBe(403)
    expect(
      (await app.request('/events', json(READER, { type: 'order.placed', data: 1 }))).status,
    ).toBe(403)
    expect((await app.request('/stats', { headers: auth(ORDERS) })).status).toBe(403)
    expect((await app.request('/stats', { headers: auth(ADMIN) })).status).toBe(200)
    expect((await app.request('/stats', { headers: { authorization: 'Basic x' } })).status).toBe(
      401,
    )
  })

  it('a per-token rate limit answers 429 with Retry-After', async () => {
    let t = 30_000
    const { app } = setup({ limits: { perTokenPerMinute: 2 }, now: () => t })
    expect((await app.request('/stats', { headers: auth(ADMIN) })).status).toBe(200)
    expect((await app.request('/stats', { headers: auth(ADMIN) })).status).toBe(200)
    const limited = await app.request('/stats', { headers: auth(ADMIN) })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('30')
    expect((await limited.json()).error.code).toBe('RATE_LIMITED')
    expect((await app.request('/stats', { headers: auth(ORDERS) })).status).toBe(403) // another token, its own budget
    t = 60_000
    expect((await app.request('/stats', { headers: auth(ADMIN) })).status).toBe(200)
  })
})

describe('POST /events', () => {
  it('publishes one event and replies { id, seq, duplicate }; Idempotency-Key becomes the id', async () => {
    const { app, bus } = setup()
    const r = await app.request(
      '/events',
      json(
        ADMIN,
        { type: 'order.placed', data: { total: 5 }, key: 'o1' },
        { 'idempotency-key': 'req-1' },
      ),
    )
    expect(await r.json()).toEqual({ id: 'req-1', seq: 1, duplicate: false })
    const again = await app.request(
      '/events',
      json(ADMIN, { type: 'order.placed', data: { total: 5 } }, { 'idempotency-key': 'req-1' }),
    )
    expect(await again.json()).toEqual({ id: 'req-1', seq: 1, duplicate: true })
    expect((await bus.read()).events).toMatchObject([
      { id: 'req-1', type: 'order.placed', data: { total: 5 }, key: 'o1' },
    ])
  })

  it('publishes a batch atomically', async () => {
    const { app, bus } = setup()
    const r = await app.request(
      '/events',
      json(ADMIN, [
        { type: 'a', data: 1 },
        { type: 'b', data: 2, id: 'x' },
      ]),
    )
    expect(await r.json()).toEqual([
      { id: expect.any(String), seq: 1, duplicate: false },
      { id: 'x', seq: 2, duplicate: false },
    ])
    const bad = await app.request(
      '/events',
      json(ADMIN, [
        { type: 'c', data: 1 },
        { type: 'bad..topic', data: 2 },
      ]),
    )
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.code).toBe('INVALID_TOPIC')
    expect((await bus.read()).events).toHaveLength(2)
  })

  it('takes CloudEvents, one or a batch, with their ids and extensions', async () => {
    const { app, bus } = setup()
    const ce = {
      specversion: '1.0',
      id: 'ce-1',
      type: 'order.placed',
      source: 'shop',
      partitionkey: 'o9',
      data: { when: 'now' },
    }
    const one = await app.request(
      '/events',
      json(ADMIN, ce, { 'content-type': 'application/cloudevents+json' }),
    )
    expect(await one.json()).toEqual({ id: 'ce-1', seq: 1, duplicate: false })
    const many = await app.request(
      '/events',
      json(ADMIN, [{ ...ce, id: 'ce-2' }, ce], {
        'content-type': 'application/cloudevents-batch+json',
      }),
    )
    expect((await many.json()).map((r: { duplicate: boolean }) => r.duplicate)).toEqual([
      false,
      true,
    ])
    expect((await bus.read()).events.map((e) => [e.id, e.source, e.key])).toEqual([
      ['ce-1', 'shop', 'o9'],
      ['ce-2', 'shop', 'o9'],
    ])
  })

  it('refuses what it cannot take, with JSON errors and stable codes', async () => {
    const { app } = setup({ limits: { bodyBytes: 2000, batch: 3 } })
    const cases: [RequestInit, number, string][] = [
      [{ ...json(ADMIN, {}), body: 'not json' }, 400, 'INVALID_PAYLOAD'],
      [json(ADMIN, { data: 1 }), 400, 'INVALID_PAYLOAD'],
      [json(ADMIN, { type: 'order.*', data: 1 }), 400, 'INVALID_TOPIC'],
      [json(ADMIN, { type: 't', data: 'x'.repeat(3000) }), 413, 'PAYLOAD_TOO_LARGE'],
      [
        json(
          ADMIN,
          [1, 2, 3, 4].map((i) => ({ type: 't', data: i })),
        ),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [json(ADMIN, []), 400, 'INVALID_PAYLOAD'],
    ]
    for (const [init, status, code] of cases) {
      const r = await app.request('/events', init)
      expect([r.status, (await r.json()).error.code]).toEqual([status, code])
    }
  })

  it("keeps one client's ids from taking another topic's: schedule ids are refused, a taken id is 409", async () => {
    const { app, bus } = setup()
    await bus.schedule('billing', { every: 3_600_000, type: 'billing.run', data: null })
    const tick = await app.request(
      '/events',
      json(ORDERS, { type: 'order.placed', data: 1, id: 'schedule:billing:3600000' }),
    )
    expect([tick.status, (await tick.json()).error.code]).toEqual([400, 'INVALID_PAYLOAD'])
    // A schedule this bus does not have (a browser's own, forwarded by its bridge) is just an id.
    const foreign = await app.request(
      '/events',
      json(ORDERS, { type: 'order.reminder', data: 1, id: 'schedule:reminder:200' }),
    )
    expect((await foreign.json()).duplicate).toBe(false)
    await bus.publish('invoice.sent', { n: 1 }, { id: 'shared-id' })
    const taken = await app.request(
      '/events',
      json(ORDERS, { type: 'order.placed', data: 1 }, { 'idempotency-key': 'shared-id' }),
    )
    expect([taken.status, (await taken.json()).error.code]).toEqual([409, 'CONFLICT'])
    const batch = await app.request(
      '/events',
      json(ORDERS, [
        { type: 'order.placed', data: 1, id: 'shared-id' },
        { type: 'order.placed', data: 2, id: 'fresh' },
      ]),
    )
    const [conflict, fresh] = await batch.json()
    expect(conflict).toEqual({
      id: 'shared-id',
      error: { code: 'CONFLICT', message: expect.any(String) },
    })
    expect(fresh).toEqual({ id: 'fresh', seq: expect.any(Number), duplicate: false })
    // A retry of the same publish is still a plain duplicate.
    const again = await app.request(
      '/events',
      json(ORDERS, { type: 'order.placed', data: 2, id: 'fresh' }),
    )
    expect(await again.json()).toEqual({ ...fresh, duplicate: true })
  })

  it("refuses an event over the bus's maxEventBytes with 413", async () => {
    const bus = createBus({ limits: { maxEventBytes: 500 } })
    const app = busApp({ bus, auth: false })
    const r = await app.request('/events', {
      method: 'POST',
      body: JSON.stringify({ type: 't', data: 'x'.repeat(600) }),
    })
    expect([r.status, (await r.json()).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE'])
  })

  it('answers an unexpected failure with 500 and no internals, and tells onError', async () => {
    const bus = createBus()
    const boom = new Error('secret detail at /srv/app.js:42')
    bus.publish = (() => {
      throw boom
    }) as never
    const told: [unknown, string][] = []
    const app = busApp({
      bus,
      auth: false,
      onError: (e, req) => {
        told.push([e, new URL(req.url).pathname])
      },
    })
    const r = await app.request('/events', {
      method: 'POST',
      body: JSON.stringify({ type: 't', data: 1 }),
    })
    expect(r.status).toBe(500)
    expect(await r.text()).toBe(
      JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error' } }),
    )
    expect(told).toEqual([[boom, '/events']])
  })

  it('refuses fields of the wrong type with 400, never 500 (issue 12.4)', async () => {
    const { app, bus } = setup()
    for (const body of [
      { type: 't', data: 1, id: 5 },
      { type: 't', data: 1, id: { toString: 'x' } },
      { type: 't', data: 1, key: ['k'] },
      { type: 't', data: 1, source: true },
      [{ type: 't', data: 1, id: 7 }],
    ]) {
      const r = await app.request('/events', json(ADMIN, body))
      expect([JSON.stringify(body), r.status, (await r.json()).error.code]).toEqual([
        JSON.stringify(body),
        400,
        'INVALID_PAYLOAD',
      ])
    }
    // null is "not given", as in CloudEvents.
    expect(
      (await app.request('/events', json(ADMIN, { type: 't', data: 1, id: null, key: null })))
        .status,
    ).toBe(200)
    expect((await bus.read()).events).toHaveLength(1)
  })

  it('answers a malformed type INVALID_TOPIC, whatever the scopes (issue 12.13)', async () => {
    const { app } = setup()
    for (const token of [ORDERS, ADMIN]) {
      const r = await app.request('/events', json(token, { type: 'order..x', data: 1 }))
      expect([r.status, (await r.json()).error.code]).toEqual([400, 'INVALID_TOPIC'])
    }
  })
})

describe('GET /events', () => {
  it('reads and replays in pages with opaque cursors, as CloudEvents', async () => {
    const { app, bus } = setup()
    for (let i = 1; i <= 5; i++) await bus.publish(i % 2 ? 'order.placed' : 'user.created', i)
    const p1 = await (
      await app.request('/events?topic=order.*&limit=2', { headers: auth(READER) })
    ).json()
    expect(p1.events.map((e: { data: number }) => e.data)).toEqual([1, 3])
    expect(p1.events[0]).toMatchObject({
      specversion: '1.0',
      type: 'order.placed',
      sequence: '0000000000000001',
    })
    const p2 = await (
      await app.request(`/events?topic=order.*&from=${p1.next}`, { headers: auth(READER) })
    ).json()
    expect(p2.events.map((e: { data: number }) => e.data)).toEqual([5])
    const bad = await app.request('/events?from=nope', { headers: auth(ADMIN) })
    expect([bad.status, (await bad.json()).error.code]).toEqual([400, 'INVALID_CURSOR'])
  })
})

// Listening with bus.on (the default) and tailing the log with bus.read (for a bus without on).
describe.each([
  ['listening', {}],
  ['polling', { stream: { poll: 5 } }],
] as const)('GET /stream (SSE), %s', (_, mode) => {
  it('streams live events matching a pattern and a filter', async () => {
    const { app, bus } = setup(mode)
    const filter = encodeURIComponent(JSON.stringify({ data: { total: [{ numeric: ['>', 10] }] } }))
    // From the end, by cursor: no sleep decides whether the stream started before the publishes.
    const { next } = await bus.read({ from: 'latest' })
    const res = await app.request(`/stream?topic=order.*&filter=${filter}&from=${next}`, {
      headers: auth(READER),
    })
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const got = sse(res, 2)
    await bus.publish('order.placed', { total: 5 })
    await bus.publish('user.created', { total: 50 })
    await bus.publish('order.placed', { total: 20 })
    await bus.publish('order.paid', { total: 30 })
    const frames = await got
    expect(frames.map((f) => [f.data.type, (f.data.data as { total: number }).total])).toEqual([
      ['order.placed', 20],
      ['order.paid', 30],
    ])
    // No `event:` line: a plain EventSource's onmessage hears every event (issue 14.5).
    expect(frames.map((f) => f.event)).toEqual(['', ''])
  })

  it('resumes after a dropped connection with Last-Event-ID: no gap, no duplicate', async () => {
    const { app, bus } = setup(mode)
    for (let i = 1; i <= 3; i++) await bus.publish('order.placed', i)
    const first = sse(
      await app.request('/stream?topic=order.*&from=c1', { headers: auth(READER) }),
      4,
    )
    await new Promise((r) => setTimeout(r, 10))
    await bus.publish('order.placed', 4)
    const seen = await first
    expect(seen.map((f) => f.data.data)).toEqual([1, 2, 3, 4])
    // Dropped; two events land while nobody listens; the client resumes from its last id.
    await bus.publish('order.placed', 5)
    await bus.publish('order.placed', 6)
    const second = sse(
      await app.request('/stream?topic=order.*', {
        headers: { ...auth(READER), 'last-event-id': seen.at(-1)!.id },
      }),
      3,
    )
    await new Promise((r) => setTimeout(r, 10))
    await bus.publish('order.placed', 7)
    expect((await second).map((f) => f.data.data)).toEqual([5, 6, 7])
    // Any id resumes right after its event, also one from the middle of what was read together.
    const mid = sse(
      await app.request('/stream?topic=order.*', {
        headers: { ...auth(READER), 'last-event-id': seen[1]!.id },
      }),
      5,
    )
    expect((await mid).map((f) => f.data.data)).toEqual([3, 4, 5, 6, 7])
  })

  it("starts from the oldest retained event with from=earliest (a start any bus's cursors allow)", async () => {
    const { app, bus } = setup(mode)
    for (let i = 1; i <= 3; i++) await bus.publish('order.placed', i)
    const got = sse(
      await app.request('/stream?topic=order.*', {
        headers: { ...auth(READER), 'last-event-id': 'earliest' },
      }),
      4,
    )
    await new Promise((r) => setTimeout(r, 20))
    await bus.publish('order.placed', 4)
    expect((await got).map((f) => f.data.data)).toEqual([1, 2, 3, 4])
  })

  it('refuses a cursor of another bus before streaming', async () => {
    const { app } = setup(mode)
    const r = await app.request('/stream?from=zz', { headers: auth(ADMIN) })
    expect([r.status, (await r.json()).error.code]).toEqual([400, 'INVALID_CURSOR'])
  })
})

describe('GET /stream (SSE)', () => {
  it('answers a WebSocket upgrade with 400 when the app was given no upgradeWebSocket helper', async () => {
    const { app } = setup()
    const r = await app.request('/stream', { headers: { ...auth(ADMIN), upgrade: 'websocket' } })
    expect([r.status, (await r.json()).error.code]).toEqual([400, 'INVALID_OPTIONS'])
  })

  it('refuses a bad cursor, pattern or filter before streaming', async () => {
    const { app } = setup()
    // 5,000 levels deep (issue 12.4): refused before anything walks it, not a stack overflow's 500.
    const deep = encodeURIComponent(
      '{"data":' + '{"a":'.repeat(5000) + '[1]' + '}'.repeat(5000) + '}',
    )
    for (const [q, code] of [
      [`filter=${deep}`, 'INVALID_FILTER'],
      ['from=zz', 'INVALID_CURSOR'],
      ['from=c1.2', 'INVALID_CURSOR'],
      ['topic=a..b', 'INVALID_PATTERN'],
      ['filter=%7B%22data%22%3A5%7D', 'INVALID_FILTER'],
      ['filter=not-json', 'INVALID_FILTER'],
    ]) {
      const r = await app.request(`/stream?${q}`, { headers: auth(ADMIN) })
      expect([
        q,
        r.status,
        r.status === 400 ? (await r.json()).error.code : await r.body?.cancel(),
      ]).toEqual([q, 400, code])
    }
  })
})

describe('schedules, dead letters, stats, health', () => {
  it('lists schedules and runs one now (the external scheduler trigger)', async () => {
    const { app, bus } = setup()
    await bus.schedule('report', { cron: '0 3 * * *', type: 'report.due', data: { kind: 'daily' } })
    const list = await (await app.request('/schedules', { headers: auth(ADMIN) })).json()
    expect(list).toMatchObject([{ name: 'report', nextAt: expect.any(Number) }])
    const run = await app.request('/schedules/report/run', {
      method: 'POST',
      headers: { ...auth(ADMIN), 'idempotency-key': 'cron-req-1' },
    })
    expect(await run.json()).toEqual({ id: 'cron-req-1', seq: 1, duplicate: false })
    const again = await app.request('/schedules/report/run', {
      method: 'POST',
      headers: { ...auth(ADMIN), 'idempotency-key': 'cron-req-1' },
    })
    expect((await again.json()).duplicate).toBe(true)
    const missing = await app.request('/schedules/nope/run', {
      method: 'POST',
      headers: auth(ADMIN),
    })
    expect([missing.status, (await missing.json()).error.code]).toEqual([400, 'INVALID_SCHEDULE'])
  })

  it('lists, redrives and discards dead letters; reports stats', async () => {
    const { app, bus } = setup()
    let fail = true
    await bus.subscribe('mailer', 't', () => {
      if (fail) throw new NonRetriableError('down')
    })
    await bus.publishMany([
      { type: 't', data: 1 },
      { type: 't', data: 2 },
    ])
    await bus.idle()
    const dead = await (
      await app.request('/dead-letters?subscription=mailer', { headers: auth(ADMIN) })
    ).json()
    expect(
      dead.map((d: { id: string; event: unknown }) => [d.id, fromCloudEvent(d.event).data]),
    ).toEqual([
      ['mailer/1', 1],
      ['mailer/2', 2],
    ])
    expect(
      (await (await app.request('/stats', { headers: auth(ADMIN) })).json()).subscriptions,
    ).toMatchObject([{ name: 'mailer', deadLetters: 2 }])
    fail = false
    const redrive = await app.request('/dead-letters/redrive', json(ADMIN, { ids: ['mailer/1'] }))
    expect(await redrive.json()).toEqual({ count: 1 })
    await bus.idle()
    const discard = await app.request('/dead-letters', { method: 'DELETE', headers: auth(ADMIN) })
    expect(await discard.json()).toEqual({ count: 1 })
    expect(await bus.deadLetters.list()).toEqual([])
  })

  it('redrives and discards all only for no body or {}; { ids } means those; anything else is 400 (issues 12.4, 12.5)', async () => {
    const { app, bus } = setup()
    await bus.subscribe('mailer', 't', () => {
      throw new NonRetriableError('down')
    })
    await bus.publishMany([1, 2, 3, 4].map((data) => ({ type: 't', data })))
    await bus.idle()
    const raw = (method: string, path: string, body: string) =>
      app.request(path, {
        method,
        headers: { ...auth(ADMIN), 'content-type': 'application/json' },
        body,
      })
    for (const [method, path] of [
      ['DELETE', '/dead-letters'],
      ['POST', '/dead-letters/redrive'],
    ] as const) {
      for (const body of [
        'null',
        '["mailer/3"]',
        '5',
        '"x"',
        'true',
        '{"ids":"mailer/3"}',
        '{"ids":[3]}',
        '{"id":["mailer/3"]}',
        '{"ids":null}',
      ]) {
        const r = await raw(method, path, body)
        expect([method, body, r.status, (await r.json()).error.code]).toEqual([
          method,
          body,
          400,
          'INVALID_PAYLOAD',
        ])
      }
      const empty = await app.request(`${path}?ids=`, { method, headers: auth(ADMIN) })
      expect([empty.status, (await empty.json()).error.code]).toEqual([400, 'INVALID_PAYLOAD'])
      await bus.idle()
      expect((await bus.deadLetters.list()).map((d) => d.id)).toEqual([
        'mailer/1',
        'mailer/2',
        'mailer/3',
        'mailer/4',
      ])
    }
    expect(await (await raw('DELETE', '/dead-letters', '{"ids":["mailer/3"]}')).json()).toEqual({
      count: 1,
    })
    expect(
      await (
        await app.request('/dead-letters?ids=mailer/4', { method: 'DELETE', headers: auth(ADMIN) })
      ).json(),
    ).toEqual({ count: 1 })
    expect(await (await raw('DELETE', '/dead-letters', '{}')).json()).toEqual({ count: 2 })
    expect(await bus.deadLetters.list()).toEqual([])
  })

  it('events written out keep their data exactly (CloudEvents with superjson data)', async () => {
    const { app, bus } = setup()
    await bus.publish('order.placed', { at: new Date(5), tags: new Set(['a']) })
    const { events } = await (
      await app.request('/events?topic=order.*', { headers: auth(READER) })
    ).json()
    expect(fromCloudEvent(events[0]).data).toEqual({ at: new Date(5), tags: new Set(['a']) })
    expect(events[0]).toEqual(toCloudEvent((await bus.read()).events[0]!))
  })
})

describe('POST /webhooks/:source', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  const make = (now: number) => {
    const { app, bus } = setup({
      now: () => now,
      webhooks: {
        payments: {
          scheme: 'standard',
          secrets: ['whsec_old0000000000000000000000000000', secret],
          map: (p) => ({ type: 'payment.processed', data: p, key: (p as { order: string }).order }),
        },
        gh: { scheme: 'github', secrets: ["It's a Secret to Everybody"] },
      },
    })
    return { app, bus }
  }
  const signed = async (body: string, id: string, ts: number) => ({
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      ...(await signStandard({ id, timestamp: ts, body, secret })),
    },
  })

  it('verifies a Standard Webhooks signature, publishes with the webhook id, and stores a provider retry once', async () => {
    const { app, bus } = make(1_700_000_000_000)
    const body = JSON.stringify({ order: 'o-1', amount: 30 })
    const r = await app.request('/webhooks/payments', await signed(body, 'msg_1', 1_700_000_000))
    expect(await r.json()).toEqual({ id: 'payments:msg_1', seq: 1, duplicate: false })
    const retry = await app.request(
      '/webhooks/payments',
      await signed(body, 'msg_1', 1_700_000_010),
    )
    expect(await retry.json()).toEqual({ id: 'payments:msg_1', seq: 1, duplicate: true })
    expect((await bus.read()).events).toMatchObject([
      {
        id: 'payments:msg_1',
        type: 'payment.processed',
        key: 'o-1',
        source: 'webhook:payments',
        data: { amount: 30 },
      },
    ])
  })

  it('refuses a bad signature, a tampered body and a stale timestamp with 401 BAD_SIGNATURE, storing nothing', async () => {
    const { app, bus } = make(1_700_000_000_000)
    const body = JSON.stringify({ order: 'o-1' })
    const good = await signed(body, 'msg_2', 1_700_000_000)
    const tampered = { ...good, body: JSON.stringify({ order: 'o-2' }) }
    const stale = await signed(body, 'msg_3', 1_700_000_000 - 301)
    const wrong = { ...good, headers: { ...good.headers, 'webhook-signature': 'v1,AAAA' } }
    for (const init of [tampered, stale, wrong]) {
      const r = await app.request('/webhooks/payments', init)
      expect([r.status, (await r.json()).error.code]).toEqual([401, 'BAD_SIGNATURE'])
    }
    expect((await bus.read()).events).toEqual([])
  })

  it('verifies GitHub signatures with the default mapping; an unknown source is 404', async () => {
    const { app, bus } = make(0)
    const body = '{"zen":"Hello, World!"}'
    const { createHmac } = await import('node:crypto')
    const sig = `sha256=${createHmac('sha256', "It's a Secret to Everybody").update(body).digest('hex')}`
    const r = await app.request('/webhooks/gh', {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': sig,
        'x-github-delivery': 'gh-72d3',
      },
    })
    expect(await r.json()).toEqual({ id: 'gh:gh-72d3', seq: 1, duplicate: false })
    expect((await bus.read()).events[0]).toMatchObject({
      type: 'webhook.gh',
      data: { zen: 'Hello, World!' },
    })
    expect((await app.request('/webhooks/nope', { method: 'POST', body })).status).toBe(404)
  })

  it("prefixes a delivery id with its source: a replayed GitHub delivery cannot take a schedule tick's id (issue 12.6)", async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, onError: () => {} })
    const secret = "It's a Secret to Everybody"
    // Even a source named "schedule" cannot reach a tick of this bus's schedule.
    const app = busApp({
      bus,
      auth: false,
      webhooks: {
        gh: { scheme: 'github', secrets: [secret] },
        schedule: { scheme: 'github', secrets: [secret] },
      },
    })
    await bus.schedule('nightly', { every: 3_600_000, type: 'nightly.run', data: null })
    const body = '{"zen":"captured"}'
    const { createHmac } = await import('node:crypto')
    const headers = (delivery: string) => ({
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      'x-github-delivery': delivery,
    })
    const replay = await app.request('/webhooks/gh', {
      method: 'POST',
      body,
      headers: headers('schedule:nightly:3600000'),
    })
    expect((await replay.json()).id).toBe('gh:schedule:nightly:3600000')
    const named = await app.request('/webhooks/schedule', {
      method: 'POST',
      body,
      headers: headers('nightly:3600000'),
    })
    expect([named.status, (await named.json()).error.code]).toEqual([400, 'INVALID_PAYLOAD'])
    await clock.advance(3_600_000)
    await bus.idle()
    expect((await bus.read()).events.map((e) => [e.id, e.type])).toEqual([
      ['gh:schedule:nightly:3600000', 'webhook.gh'],
      ['schedule:nightly:3600000', 'nightly.run'],
    ])
  })
})
