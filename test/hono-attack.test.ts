import { createHmac } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { busApp, signStandard } from '../adapters/hono/index.js'
import { createBus } from '../src/bus.js'
import { DOCUMENTED_CODES, snapshot } from './property/_oracle.js'
import { memoryStore } from '../src/store/memory.js'
import { manualClock } from '../src/testing.js'

// Hostile requests against busApp: every answer's status and code asserted, nothing written when
// a request is refused, and never a 500 (onError is told of none).
const ADMIN = 'admin-token'
const ORDERS = 'orders-token'
const READER = 'reader-token'
const tokens = {
  [ADMIN]: ['admin'],
  [ORDERS]: ['publish:order.**'],
  [READER]: ['subscribe:order.*'],
} as const
const STANDARD = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const GITHUB = "It's a Secret to Everybody"
const STRIPE = 'whsec_stripe'
const NOW = 1_700_000_000_000

let internal: unknown[] = []
afterEach(() => {
  expect(internal).toEqual([])
  internal = []
})

const setup = (limits: { bodyBytes?: number; batch?: number } = {}) => {
  const store = memoryStore()
  const bus = createBus({ store, clock: manualClock(NOW), onError: () => {} })
  const app = busApp({
    bus,
    tokens: tokens as never,
    limits,
    now: () => NOW,
    onError: (e) => {
      internal.push(e)
    },
    webhooks: {
      payments: { scheme: 'standard', secrets: [STANDARD] },
      gh: { scheme: 'github', secrets: [GITHUB] },
      stripe: { scheme: 'stripe', secrets: [STRIPE] },
    },
  })
  /** Sends a request and asserts it was refused with this status and code, changing nothing. */
  const refused = async (path: string, init: RequestInit, status: number, code: string) => {
    const before = await snapshot(store)
    const r = await app.request(path, init)
    const body = (await r.json()) as { error: { code: string; message: string } }
    expect([path, r.status, body.error.code]).toEqual([path, status, code])
    expect(Object.keys(body)).toEqual(['error'])
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message'])
    expect(typeof body.error.message).toBe('string')
    expect(body.error.message).not.toMatch(/\bat .*:\d+:\d+|node_modules|TypeError|RangeError/)
    if (code !== 'NOT_FOUND') expect(DOCUMENTED_CODES.has(body.error.code as never)).toBe(true)
    await bus.idle()
    expect(await snapshot(store)).toEqual(before)
  }
  return { store, bus, app, refused }
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` })
const post = (
  token: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit => ({
  method: 'POST',
  headers: { ...(token ? auth(token) : {}), 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

describe('tokens', () => {
  it('refuses missing, malformed and wrong tokens with 401 on every route but /health', async () => {
    const { app, refused } = setup()
    const headers: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Basic ${ADMIN}` },
      { authorization: `Bearer ${ADMIN}x` },
      { authorization: `Bearer ${ADMIN.slice(0, -1)}` },
      { authorization: `Bearer ${ADMIN} ${ADMIN}` },
      { authorization: `Bearer ${ADMIN.toUpperCase()}` },
    ]
    const routes: [string, string][] = [
      ['GET', '/events'],
      ['POST', '/events'],
      ['GET', '/stream'],
      ['GET', '/stats'],
      ['GET', '/schedules'],
      ['POST', '/schedules/x/run'],
      ['GET', '/dead-letters'],
      ['POST', '/dead-letters/redrive'],
      ['DELETE', '/dead-letters'],
    ]
    for (const h of headers) {
      for (const [method, path] of routes) {
        await refused(
          path,
          {
            method,
            headers: h,
            ...(method === 'GET' ? {} : { body: '{"type":"order.x","data":1}' }),
          },
          401,
          'UNAUTHORIZED',
        )
      }
    }
    // ?access_token= is for /stream only (browsers' EventSource); elsewhere it is no token.
    await refused(`/events?access_token=${ADMIN}`, { method: 'GET' }, 401, 'UNAUTHORIZED')
    await refused(`/stats?access_token=${ADMIN}`, { method: 'GET' }, 401, 'UNAUTHORIZED')
    await refused('/stream?access_token=wrong', { method: 'GET' }, 401, 'UNAUTHORIZED')
    expect((await app.request('/health')).status).toBe(200)
  })
})

describe('scope escapes', () => {
  it('refuses publishing outside the publish scope: single, batch mixing allowed and forbidden, CloudEvents', async () => {
    const { refused } = setup()
    for (const type of [
      'user.created',
      'orders.placed',
      'orderx',
      'ORDER.placed',
      'x.order.placed',
    ])
      await refused('/events', post(ORDERS, { type, data: 1 }), 403, 'FORBIDDEN')
    await refused(
      '/events',
      post(ORDERS, [
        { type: 'order.placed', data: 1 },
        { type: 'user.created', data: 2 },
      ]),
      403,
      'FORBIDDEN',
    )
    await refused(
      '/events',
      post(ORDERS, [
        { type: 'user.created', data: 2 },
        { type: 'order.placed', data: 1 },
      ]),
      403,
      'FORBIDDEN',
    )
    const ce = { specversion: '1.0', id: 'ce-1', source: 'shop', type: 'user.created', data: 1 }
    await refused(
      '/events',
      post(ORDERS, ce, { 'content-type': 'application/cloudevents+json' }),
      403,
      'FORBIDDEN',
    )
    await refused(
      '/events',
      post(ORDERS, [{ ...ce, type: 'order.placed' }, ce], {
        'content-type': 'application/cloudevents-batch+json',
      }),
      403,
      'FORBIDDEN',
    )
    // A CloudEvent sent as plain JSON is read as plain JSON: no "type" it carries elsewhere counts.
    await refused('/events', post(ORDERS, { ...ce, type: 'user.created' }), 403, 'FORBIDDEN')
    // Readers and subscribe scopes do not publish.
    await refused('/events', post(READER, { type: 'order.placed', data: 1 }), 403, 'FORBIDDEN')
  })

  it('refuses reading and streaming outside the subscribe scope, also with wildcards that reach further', async () => {
    const { refused } = setup()
    for (const topic of [
      'order.**',
      '**',
      '*',
      '*.*',
      'order',
      'order.*.x',
      'user.*',
      '*.placed',
      '**.placed',
    ]) {
      await refused(
        `/events?topic=${encodeURIComponent(topic)}`,
        { headers: auth(READER) },
        403,
        'FORBIDDEN',
      )
      await refused(
        `/stream?topic=${encodeURIComponent(topic)}`,
        { headers: auth(READER) },
        403,
        'FORBIDDEN',
      )
    }
    await refused('/events', { headers: auth(READER) }, 403, 'FORBIDDEN')
    await refused('/stream', { headers: auth(READER) }, 403, 'FORBIDDEN')
    await refused(`/stream?access_token=${READER}`, { method: 'GET' }, 403, 'FORBIDDEN')
    await refused('/events?topic=order.*', { headers: auth(ORDERS) }, 403, 'FORBIDDEN')
    // A pattern with many `**` is answered at once, not by a search exponential in them.
    await refused(`/stream?topic=${'**.'.repeat(15)}x`, { headers: auth(READER) }, 403, 'FORBIDDEN')
  })

  it('refuses every admin route to tokens without admin', async () => {
    const { bus, refused } = setup()
    await bus.schedule('nightly', { every: 3_600_000, type: 'nightly.run', data: null })
    for (const token of [ORDERS, READER]) {
      for (const [method, path] of [
        ['GET', '/schedules'],
        ['POST', '/schedules/nightly/run'],
        ['GET', '/dead-letters'],
        ['POST', '/dead-letters/redrive'],
        ['DELETE', '/dead-letters'],
        ['GET', '/stats'],
        ['GET', '/events/../stats'],
        ['GET', '/%2e%2e/stats'],
      ] as const) {
        await refused(path, { method, headers: auth(token) }, 403, 'FORBIDDEN')
      }
    }
  })
})

describe('malformed and oversized bodies', () => {
  it('refuses bodies that are not events, with codes', async () => {
    const { refused } = setup()
    const cases: [string, string][] = [
      ['', 'INVALID_PAYLOAD'],
      ['not json', 'INVALID_PAYLOAD'],
      ['{', 'INVALID_PAYLOAD'],
      ['null', 'INVALID_PAYLOAD'],
      ['5', 'INVALID_PAYLOAD'],
      ['"order.placed"', 'INVALID_PAYLOAD'],
      ['[]', 'INVALID_PAYLOAD'],
      ['[null]', 'INVALID_PAYLOAD'],
      ['[[{"type":"order.x","data":1}]]', 'INVALID_PAYLOAD'],
      ['{"type":5,"data":1}', 'INVALID_PAYLOAD'],
      ['{"type":"order.x","data":1,"id":5}', 'INVALID_PAYLOAD'],
      ['{"type":"order.x","data":1,"key":{}}', 'INVALID_PAYLOAD'],
      ['{"type":"order.x","data":1,"id":""}', 'INVALID_OPTIONS'],
      ['{"type":"order..x","data":1}', 'INVALID_TOPIC'],
      ['{"type":"order.*","data":1}', 'INVALID_TOPIC'],
      ['{"type":"order.x","data":1,"traceparent":"nope"}', 'INVALID_OPTIONS'],
    ]
    for (const [body, code] of cases) await refused('/events', post(ORDERS, body), 400, code)
    const ce = { specversion: '1.0', id: 'ce-1', source: 'shop', type: 'order.placed' }
    for (const bad of [
      { ...ce, specversion: '0.3' },
      { ...ce, id: '' },
      { ...ce, id: 5 },
      { ...ce, type: 'order..x' },
      { ...ce, time: 'yesterday' },
      { ...ce, data_base64: 'AA==' },
      { ...ce, source: 5 },
    ]) {
      await refused(
        '/events',
        post(ORDERS, bad, { 'content-type': 'application/cloudevents+json' }),
        400,
        'INVALID_PAYLOAD',
      )
    }
  })

  it('refuses JSON nested absurdly deep in a body, a filter or a dead-letter request', async () => {
    const { refused } = setup()
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)
    for (const n of [200, 100_000]) {
      await refused(
        '/events',
        post(ORDERS, `{"type":"order.x","data":${deep(n)}}`),
        400,
        'INVALID_PAYLOAD',
      )
      await refused('/events', post(ORDERS, deep(n)), 400, 'INVALID_PAYLOAD')
      await refused(
        '/dead-letters',
        { method: 'DELETE', headers: auth(ADMIN), body: `{"ids":${deep(n)}}` },
        400,
        'INVALID_PAYLOAD',
      )
      await refused(
        `/stream?filter=${encodeURIComponent(`{"data":${'{"a":'.repeat(n)}[1]${'}'.repeat(n)}}`)}`,
        { headers: auth(ADMIN) },
        400,
        'INVALID_FILTER',
      )
    }
    // 65 levels of data: within the app's JSON bound, refused by the bus's own payload bound.
    await refused(
      '/events',
      post(ORDERS, `{"type":"order.x","data":${deep(70)}}`),
      400,
      'INVALID_PAYLOAD',
    )
  })

  it('refuses oversized bodies with 413, declared or not, and cuts a body that never ends', async () => {
    const { app, refused } = setup({ bodyBytes: 1000, batch: 3 })
    const big = JSON.stringify({ type: 'order.x', data: 'x'.repeat(2000) })
    await refused('/events', post(ORDERS, big), 413, 'PAYLOAD_TOO_LARGE')
    // Declares a small length and sends more: the bytes read count, not the header.
    await refused(
      '/events',
      post(ORDERS, big, { 'content-length': '10' }),
      413,
      'PAYLOAD_TOO_LARGE',
    )
    await refused(
      '/events',
      post(ORDERS, '{}', { 'content-length': '99999999999' }),
      413,
      'PAYLOAD_TOO_LARGE',
    )
    await refused(
      '/events',
      post(
        ORDERS,
        [1, 2, 3, 4].map((data) => ({ type: 'order.x', data })),
      ),
      413,
      'PAYLOAD_TOO_LARGE',
    )
    // A chunked body with no length that never ends: refused once past the limit, by size.
    let pulled = 0
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++
        c.enqueue(new TextEncoder().encode('[{"type":"order.x","data":"' + 'x'.repeat(100)))
      },
    })
    await refused(
      '/events',
      { method: 'POST', headers: auth(ORDERS), body: endless, duplex: 'half' } as RequestInit,
      413,
      'PAYLOAD_TOO_LARGE',
    )
    expect(pulled).toBeLessThan(20)
    // The same for the webhook route and the dead-letter routes, before any signature or scope work.
    const hook = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(512))
      },
    })
    await refused(
      '/webhooks/payments',
      { method: 'POST', body: hook, duplex: 'half' } as RequestInit,
      413,
      'PAYLOAD_TOO_LARGE',
    )
    await refused(
      '/dead-letters',
      { method: 'DELETE', headers: auth(ADMIN), body: 'x'.repeat(2000) },
      413,
      'PAYLOAD_TOO_LARGE',
    )
    expect((await app.request('/health')).status).toBe(200)
  })
})

describe('path and query tricks', () => {
  it('answers prototype names and encoded separators as what they are: no source, no schedule, no route', async () => {
    const { refused } = setup()
    for (const name of [
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'a%2Fb',
      'payments%2F..',
      'payments%00',
      'PAYMENTS',
    ]) {
      await refused(`/webhooks/${name}`, { method: 'POST', body: '{}' }, 404, 'NOT_FOUND')
    }
    // Dot segments are resolved by the URL itself: `/webhooks/..` is `/`, behind the token check.
    await refused('/webhooks/%2e%2e', { method: 'POST', body: '{}' }, 401, 'UNAUTHORIZED')
    await refused(
      '/webhooks/%2e%2e',
      { method: 'POST', headers: auth(ADMIN), body: '{}' },
      404,
      'NOT_FOUND',
    )
    for (const name of ['__proto__', 'constructor', 'toString', 'a%2Fb']) {
      await refused(
        `/schedules/${name}/run`,
        { method: 'POST', headers: auth(ADMIN) },
        400,
        'INVALID_SCHEDULE',
      )
    }
    await refused('/EVENTS', { headers: auth(ADMIN) }, 404, 'NOT_FOUND')
    await refused('/events', { method: 'PUT', headers: auth(ADMIN) }, 404, 'NOT_FOUND')
    for (const [q, code] of [
      ['topic=%ZZ', 'INVALID_PATTERN'],
      ['topic=a..b', 'INVALID_PATTERN'],
      ['limit=-1', 'INVALID_OPTIONS'],
      ['limit=1e9', 'INVALID_OPTIONS'],
      ['limit=abc', 'INVALID_OPTIONS'],
      ['from=zz', 'INVALID_CURSOR'],
      [`from=${'c'.repeat(10_000)}`, 'INVALID_CURSOR'],
    ]) {
      await refused(`/events?${q}`, { headers: auth(ADMIN) }, 400, code!)
    }
    for (const [q, code] of [
      ['filter=%7B', 'INVALID_FILTER'],
      ['filter=null', 'INVALID_FILTER'],
      ['filter=5', 'INVALID_FILTER'],
      ['filter=%7B%22data%22%3A5%7D', 'INVALID_FILTER'],
      ['from=c1.2', 'INVALID_CURSOR'],
    ]) {
      await refused(`/stream?${q}`, { headers: auth(ADMIN) }, 400, code!)
    }
  })
})

describe('webhooks', () => {
  const standard = async (body: string, id: string, ts: number, secret = STANDARD) => ({
    method: 'POST',
    body,
    headers: await signStandard({ id, timestamp: ts, body, secret }),
  })
  const github = (body: string, delivery: string, secret = GITHUB) => ({
    method: 'POST',
    body,
    headers: {
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      'x-github-delivery': delivery,
    },
  })
  const stripe = (body: string, t: number, secret = STRIPE) => ({
    method: 'POST',
    body,
    headers: {
      'stripe-signature': `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`,
    },
  })
  const ts = NOW / 1000

  it('stores a replayed delivery once, and a replay under a new id is refused as a forgery', async () => {
    const { app, bus, refused } = setup()
    const body = '{"amount":30}'
    const first = await app.request('/webhooks/payments', await standard(body, 'msg_1', ts))
    expect(await first.json()).toEqual({ id: 'payments:msg_1', seq: 1, duplicate: false })
    const replay = await app.request('/webhooks/payments', await standard(body, 'msg_1', ts + 60))
    expect(await replay.json()).toEqual({ id: 'payments:msg_1', seq: 1, duplicate: true })
    const signed = await standard(body, 'msg_1', ts)
    await refused(
      '/webhooks/payments',
      { ...signed, headers: { ...signed.headers, 'webhook-id': 'msg_2' } },
      401,
      'BAD_SIGNATURE',
    )
    await refused(
      '/webhooks/payments',
      { ...signed, body: '{"amount":3000}' },
      401,
      'BAD_SIGNATURE',
    )
    expect((await bus.read()).events).toHaveLength(1)
  })

  it("refuses stale and future timestamps, other sources' secrets and missing headers with 401", async () => {
    const { refused } = setup()
    const body = '{"amount":30}'
    await refused(
      '/webhooks/payments',
      await standard(body, 'msg_s', ts - 301),
      401,
      'BAD_SIGNATURE',
    )
    await refused(
      '/webhooks/payments',
      await standard(body, 'msg_f', ts + 301),
      401,
      'BAD_SIGNATURE',
    )
    await refused(
      '/webhooks/payments',
      await standard(body, 'msg_o', ts, 'whsec_' + btoa('someone else entirely, 32 bytes.')),
      401,
      'BAD_SIGNATURE',
    )
    await refused('/webhooks/payments', { method: 'POST', body }, 401, 'BAD_SIGNATURE')
    await refused('/webhooks/stripe', stripe('{"id":"evt_1"}', ts - 301), 401, 'BAD_SIGNATURE')
    await refused(
      '/webhooks/stripe',
      stripe('{"id":"evt_1"}', ts, 'whsec_other'),
      401,
      'BAD_SIGNATURE',
    )
    await refused('/webhooks/gh', github(body, 'd-1', 'not the secret'), 401, 'BAD_SIGNATURE')
    // A payments delivery sent to the GitHub source carries the wrong scheme's headers.
    await refused('/webhooks/gh', await standard(body, 'msg_x', ts), 401, 'BAD_SIGNATURE')
  })

  it("keeps a provider's ids inside its source: a GitHub replay with a forged delivery id cannot take a schedule tick", async () => {
    const { app, bus } = setup()
    await bus.schedule('nightly', { every: 3_600_000, type: 'nightly.run', data: null })
    const body = '{"zen":"captured"}'
    for (const delivery of [
      'schedule:nightly:1700002800000',
      'payments:msg_1',
      '../stripe:evt_1',
    ]) {
      const r = await app.request('/webhooks/gh', github(body, delivery))
      expect((await r.json()).id).toBe(`gh:${delivery}`)
    }
    // A Stripe event id comes from the signed body, and is scoped the same way.
    const s = await app.request(
      '/webhooks/stripe',
      stripe('{"id":"schedule:nightly:1700002800000"}', ts),
    )
    expect((await s.json()).id).toBe('stripe:schedule:nightly:1700002800000')
    expect(
      (await bus.read()).events.every((e) => e.id.startsWith('gh:') || e.id.startsWith('stripe:')),
    ).toBe(true)
  })
})
