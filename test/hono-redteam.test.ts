import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { busApp, signStandard, verifyWebhook } from '../adapters/hono/index.js'
import { createBus } from '../src/bus.js'
import { memoryStore } from '../src/store/memory.js'
import { manualClock } from '../src/testing.js'
import { compilePattern, patternCovers } from '../src/topic/pattern.js'

// Red-team findings over busApp: each case here was answered wrongly before its fix.
const NOW = 1_700_000_000_000
const GITHUB = 'gh-secret'
const STRIPE = 'whsec_stripe'
const STANDARD = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const enc = new TextEncoder()
const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...enc.encode(p)] : p)))

const setup = () => {
  const internal: unknown[] = []
  const bus = createBus({ store: memoryStore(), clock: manualClock(NOW), onError: () => {} })
  const app = busApp({
    bus,
    tokens: { pub: ['publish:order.**'], sub: ['subscribe:order.**'] },
    now: () => NOW,
    onError: (e) => {
      internal.push(e)
    },
    webhooks: {
      gh: { scheme: 'github', secrets: [GITHUB] },
      stripe: { scheme: 'stripe', secrets: [STRIPE] },
      std: { scheme: 'standard', secrets: [STANDARD] },
    },
  })
  return { bus, app, internal }
}

describe('webhook signatures are checked over the raw bytes, not over the body decoded and re-encoded', () => {
  // A byte-order mark (dropped by UTF-8 decoding) or bytes that are not UTF-8 (replaced by U+FFFD)
  // made a correctly signed delivery fail with 401 BAD_SIGNATURE: the MAC was computed over the text.
  const bodies: [string, Uint8Array<ArrayBuffer>][] = [
    ['a byte-order mark', bytes([0xef, 0xbb, 0xbf], '{"zen":1}')],
    ['a Latin-1 byte', bytes('caf', [0xe9])],
  ]
  it.each(bodies)('GitHub, with %s', async (_, body) => {
    const { app, bus, internal } = setup()
    const r = await app.request('/webhooks/gh', {
      method: 'POST',
      body,
      headers: {
        'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB).update(body).digest('hex')}`,
        'x-github-delivery': 'd1',
      },
    })
    expect(r.status).toBe(200)
    expect((await bus.read({})).events.map((e) => e.id)).toEqual(['gh:d1'])
    expect(internal).toEqual([])
  })
  it.each(bodies)('Stripe, with %s', async (_, body) => {
    const { app } = setup()
    const t = NOW / 1000
    const mac = createHmac('sha256', STRIPE)
      .update(Buffer.concat([enc.encode(`${t}.`), body]))
      .digest('hex')
    const r = await app.request('/webhooks/stripe', {
      method: 'POST',
      body,
      headers: { 'stripe-signature': `t=${t},v1=${mac}` },
    })
    expect(r.status).toBe(200)
  })
  it.each(bodies)('Standard Webhooks, with %s', async (_, body) => {
    const { app } = setup()
    const t = NOW / 1000
    const key = Buffer.from(STANDARD.slice(6), 'base64')
    const mac = createHmac('sha256', key)
      .update(Buffer.concat([enc.encode(`m1.${t}.`), body]))
      .digest('base64')
    const r = await app.request('/webhooks/std', {
      method: 'POST',
      body,
      headers: {
        'webhook-id': 'm1',
        'webhook-timestamp': String(t),
        'webhook-signature': `v1,${mac}`,
      },
    })
    expect(r.status).toBe(200)
  })
  it('a body altered after signing is still refused, and verifyWebhook takes the raw bytes', async () => {
    const { app } = setup()
    const body = bytes([0xef, 0xbb, 0xbf], '{"zen":1}')
    const signed = `sha256=${createHmac('sha256', GITHUB).update(body).digest('hex')}`
    const r = await app.request('/webhooks/gh', {
      method: 'POST',
      body: '{"zen":1}',
      headers: { 'x-hub-signature-256': signed, 'x-github-delivery': 'd1' },
    })
    expect(r.status).toBe(401)
    await expect(
      verifyWebhook('github', {
        body,
        headers: new Headers({ 'x-hub-signature-256': signed }),
        secrets: [GITHUB],
        now: NOW,
      }),
    ).resolves.toEqual({ id: undefined })
    const text = '{"a":"é"}'
    const std = await signStandard({
      id: 'm2',
      timestamp: NOW / 1000,
      body: text,
      secret: STANDARD,
    })
    await expect(
      verifyWebhook('standard', {
        body: enc.encode(text),
        headers: new Headers(std),
        secrets: [STANDARD],
        now: NOW,
      }),
    ).resolves.toMatchObject({ id: 'm2' })
  })
})
describe('JSON numbers that JSON cannot give back', () => {
  // `1e400` parsed to Infinity and `-0` to -0: both were stored, so a plain-JSON client's event came
  // back from GET /events as superjson (`{ json, meta }`, datacontenttype application/superjson+json).
  it('a number beyond a double is refused with INVALID_PAYLOAD, nothing stored', async () => {
    const { app, bus } = setup()
    for (const n of ['1e400', '-1e400']) {
      const r = await app.request('/events', {
        method: 'POST',
        body: `{"type":"order.a","data":{"n":${n}}}`,
        headers: { authorization: 'Bearer pub', 'content-type': 'application/json' },
      })
      expect([r.status, ((await r.json()) as { error: { code: string } }).error.code]).toEqual([
        400,
        'INVALID_PAYLOAD',
      ])
    }
    expect((await bus.read({})).events).toEqual([])
  })
  it('-0 is read as 0, so the event reads back as the JSON it was', async () => {
    const { app } = setup()
    const r = await app.request('/events', {
      method: 'POST',
      body: '{"type":"order.a","data":{"z":-0,"w":[-0.0]}}',
      headers: { authorization: 'Bearer pub', 'content-type': 'application/json' },
    })
    expect(r.status).toBe(200)
    const page = (await (
      await app.request('/events?topic=order.*', { headers: { authorization: 'Bearer sub' } })
    ).json()) as { events: { data: unknown; datacontenttype: string }[] }
    expect(page.events.map((e) => [e.datacontenttype, e.data])).toEqual([
      ['application/json', { z: 0, w: [0] }],
    ])
  })
})

describe('tokens and scopes are checked when the app is made', () => {
  // A scope that is not `admin`, `publish:<pattern>` or `subscribe:<pattern>` was accepted; at
  // request time it answered 400 INVALID_PATTERN, blaming the client and quoting the server's
  // configuration. A token that no Authorization header can carry was accepted silently.
  it.each([
    [{ t: ['publish:order..x'] }],
    [{ t: ['subscribe:'] }],
    [{ t: ['read:order.*'] }],
    [{ t: ['Admin'] }],
    [{ t: 'admin' }],
    [{ '': ['admin'] }],
    [{ 'two words': ['admin'] }],
  ])('refuses %j with INVALID_OPTIONS', (tokens) => {
    const bus = createBus({ store: memoryStore() })
    expect(() => busApp({ bus, tokens: tokens as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    )
  })
})

describe('scopes cover exactly the topics their pattern matches', () => {
  // Every pair of patterns of up to 3 segments over a, b, * and ** (7,056 pairs), against every
  // topic of up to 6 segments over a, b, c: a scope may never cover a pattern reaching a topic it
  // does not match (an escape), and should not refuse one whose topics it all matches. Before the
  // fix there were no escapes but 165 false refusals, e.g. `subscribe:a.*.**` asking `a.**.a`.
  const words = (alphabet: string[], max: number): string[] => {
    const out: string[] = []
    const grow = (prefix: string[]) => {
      if (prefix.length) out.push(prefix.join('.'))
      if (prefix.length < max) for (const s of alphabet) grow([...prefix, s])
    }
    grow([])
    return out
  }
  it('no escape and no false refusal, by brute force', () => {
    const patterns = words(['a', 'b', '*', '**'], 3)
    const topics = words(['a', 'b', 'c'], 6)
    const reach = new Map(patterns.map((p) => [p, new Set(topics.filter(compilePattern(p)))]))
    const wrong: string[] = []
    for (const g of patterns) {
      for (const w of patterns) {
        const all = [...reach.get(w)!].every((t) => reach.get(g)!.has(t))
        if (patternCovers(g, w) !== all)
          wrong.push(`${g} ${all ? 'covers' : 'does not cover'} ${w}`)
      }
    }
    expect(wrong).toEqual([])
  })
  it('over HTTP: a scope answers for a pattern it covers, and refuses one it does not', async () => {
    const bus = createBus({ store: memoryStore() })
    const app = busApp({ bus, tokens: { t: ['subscribe:a.*.**', 'subscribe:**.x'] } })
    const get = async (topic: string) =>
      (await app.request(`/events?topic=${topic}`, { headers: { authorization: 'Bearer t' } }))
        .status
    expect(await get('a.**.a')).toBe(200)
    expect(await get('*.**.x')).toBe(200)
    expect(await get('a.**')).toBe(403)
    expect(await get('**.*')).toBe(403)
  })
})

describe('a body that is not UTF-8', () => {
  // Bytes that are not UTF-8 were replaced by U+FFFD and the event stored: what reads back was not
  // what was sent. JSON exchanged between systems is UTF-8 (RFC 8259): refuse it instead.
  it('POST /events refuses it with INVALID_PAYLOAD and stores nothing', async () => {
    const { app, bus } = setup()
    for (const body of [
      bytes('{"type":"order.a","data":"caf', [0xe9], '"}'),
      bytes('{"type":"order.a","data":"', [0xed, 0xa0, 0x80], '"}'),
    ]) {
      const r = await app.request('/events', {
        method: 'POST',
        body,
        headers: { authorization: 'Bearer pub', 'content-type': 'application/json' },
      })
      expect([r.status, ((await r.json()) as { error: { code: string } }).error.code]).toEqual([
        400,
        'INVALID_PAYLOAD',
      ])
    }
    expect((await bus.read({})).events).toEqual([])
  })
  it('a byte-order mark is still allowed, and UTF-8 text reads back as sent', async () => {
    const { app, bus } = setup()
    const r = await app.request('/events', {
      method: 'POST',
      body: bytes([0xef, 0xbb, 0xbf], '{"type":"order.a","data":"café 😀"}'),
      headers: { authorization: 'Bearer pub', 'content-type': 'application/json' },
    })
    expect(r.status).toBe(200)
    expect((await bus.read({})).events.map((e) => e.data)).toEqual(['café 😀'])
  })
})
