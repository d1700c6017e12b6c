import { serve, type ServerType } from '@hono/node-server'
import { sign as signGitHub } from '@octokit/webhooks-methods'
import {
  CloudEvent as SdkCloudEvent,
  CONSTANTS,
  emitterFor,
  HTTP,
  httpTransport,
  Mode,
} from 'cloudevents'
import { EventSource } from 'eventsource'
import type { AddressInfo } from 'node:net'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import Stripe from 'stripe'
import { Webhook as SvixWebhook } from 'svix'
import { afterEach, describe, expect, it } from 'vitest'
import { busApp, webhookSubscription } from '../adapters/hono/index.js'
import { createBus } from '../src/bus.js'
import { fromCloudEvent } from '../src/cloudevent.js'

// The official clients of the standards busApp speaks, against it: EventSource, the CloudEvents
// SDK, the webhook signers of Svix, Standard Webhooks, GitHub (Octokit) and Stripe, and the
// Standard Webhooks and Svix verifiers on what webhookSubscription sends.
const ADMIN = 'admin-token'
const auth = { authorization: `Bearer ${ADMIN}` }
const servers: ServerType[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})

const listen = async (app: { fetch: (r: Request) => Response | Promise<Response> }) => {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  servers.push(server)
  await new Promise((r) => server.once('listening', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
const until = async (check: () => boolean, ms = 10_000) => {
  for (let i = 0; i < ms / 10 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
}

describe('EventSource (the eventsource package, v4)', () => {
  it('hears every event with onmessage, resumes with Last-Event-ID after the server cuts it off, no gap, no duplicate', async () => {
    const bus = createBus({ onError: () => {} })
    // A queue of 2: a burst of 10 cuts the client off server-side, as a slow client would be.
    const url = await listen(
      busApp({ bus, tokens: { [ADMIN]: ['admin'] }, limits: { streamQueue: 2 } }),
    )
    const connections: (string | null)[] = []
    const es = new EventSource(`${url}/stream?topic=order.*`, {
      fetch: (input, init) => {
        connections.push(new Headers(init.headers).get('last-event-id'))
        return fetch(input, { ...init, headers: { ...init.headers, ...auth } })
      },
    })
    const got: { id: string; type: string; data: unknown }[] = []
    es.onmessage = (m) => {
      const e = fromCloudEvent(JSON.parse(m.data))
      got.push({ id: m.lastEventId, type: e.type, data: e.data })
    }
    try {
      await new Promise<void>((resolve, reject) => {
        es.onopen = () => resolve()
        es.onerror = (e) => reject(new Error(String(e.message)))
      })
      es.onerror = null
      await bus.publish('order.placed', 0)
      await bus.publish('order.shipped', 1, { key: 'o1' })
      await until(() => got.length === 2)
      // Different types, one handler: there is no per-type event name to miss.
      expect(got.map((g) => [g.type, g.data])).toEqual([
        ['order.placed', 0],
        ['order.shipped', 1],
      ])
      await bus.publishMany(
        Array.from({ length: 10 }, (_, i) => ({ type: 'order.placed', data: i + 2 })),
      )
      await until(() => got.length === 12)
      expect(got.map((g) => g.data)).toEqual(Array.from({ length: 12 }, (_, i) => i))
      // Cut once, and the second connection asked to resume right after the last event it had.
      expect(connections).toEqual([null, got[1]!.id])
      expect(new Set(got.map((g) => g.id)).size).toBe(12)
    } finally {
      es.close()
    }
  }, 30_000)
})

describe('CloudEvents SDK (v10)', () => {
  const setup = () => {
    const bus = createBus({ onError: () => {} })
    return {
      bus,
      app: busApp({ bus, tokens: { [ADMIN]: ['admin'], 'orders-token': ['publish:order.**'] } }),
    }
  }

  it('binary mode (the SDK default): attributes from ce-* headers, the body is the data, never an envelope', async () => {
    const { bus, app } = setup()
    // A data object that looks like an event: it stays data.
    const ce = new SdkCloudEvent({
      type: 'order.placed',
      source: '/shop',
      subject: 'o-1',
      partitionkey: 'o1',
      data: { type: 'user.deleted', data: 'x', total: 3 },
    })
    const { headers, body } = HTTP.binary(ce)
    const r = await app.request('/events', {
      method: 'POST',
      headers: { ...(headers as Record<string, string>), ...auth },
      body: body as string,
    })
    expect(await r.json()).toEqual({ id: ce.id, seq: 1, duplicate: false })
    expect((await bus.read()).events).toMatchObject([
      {
        id: ce.id,
        type: 'order.placed',
        source: '/shop',
        key: 'o1',
        data: { type: 'user.deleted', data: 'x', total: 3 },
      },
    ])
    // Text data, and header values percent-encoded as the HTTP binding asks.
    const text = await app.request('/events', {
      method: 'POST',
      headers: {
        ...auth,
        'content-type': 'text/plain',
        'ce-specversion': '1.0',
        'ce-id': 'caf%C3%A9-1',
        'ce-type': 'order.noted',
        'ce-source': '/a%20b',
      },
      body: 'hello',
    })
    expect((await text.json()).id).toBe('café-1')
    expect((await bus.read()).events[1]).toMatchObject({
      id: 'café-1',
      source: '/a b',
      data: 'hello',
    })
  })

  it('binary mode is checked like any other: scope by ce-type, a missing attribute, data it cannot take', async () => {
    const { bus, app } = setup()
    const base = {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'b-1',
      'ce-source': '/shop',
    }
    const send = (headers: Record<string, string>, body = '{"type":"order.placed","data":1}') =>
      app.request('/events', { method: 'POST', headers, body })
    const cases: [Record<string, string>, number, string][] = [
      [
        { ...base, 'ce-type': 'user.created', authorization: 'Bearer orders-token' },
        403,
        'FORBIDDEN',
      ],
      [{ ...base, ...auth }, 400, 'INVALID_PAYLOAD'], // no ce-type: the body's "type" is data, not the event's type
      [
        { ...base, ...auth, 'ce-type': 'order.placed', 'ce-specversion': '0.3' },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        { ...base, ...auth, 'ce-type': 'order.placed', 'ce-id': '%E0%A4%A' },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        { ...base, ...auth, 'ce-type': 'order.placed', 'content-type': 'application/octet-stream' },
        400,
        'INVALID_PAYLOAD',
      ],
    ]
    for (const [headers, status, code] of cases) {
      const r = await send(headers)
      expect([r.status, (await r.json()).error.code]).toEqual([status, code])
    }
    const bad = await send({ ...base, ...auth, 'ce-type': 'order.placed' }, '{not json')
    expect([bad.status, (await bad.json()).error.code]).toEqual([400, 'INVALID_PAYLOAD'])
    expect((await bus.read()).events).toEqual([])
  })

  it('structured and batch mode; the SDK reads back what GET /events writes', async () => {
    const { bus, app } = setup()
    const a = new SdkCloudEvent({ type: 'order.placed', source: '/shop', data: { n: 1 } })
    const b = new SdkCloudEvent({
      type: 'order.paid',
      source: '/shop',
      data: { n: 2 },
      partitionkey: 'o2',
    })
    const one = HTTP.structured(a)
    expect(
      await (
        await app.request('/events', {
          method: 'POST',
          headers: { ...(one.headers as Record<string, string>), ...auth },
          body: one.body as string,
        })
      ).json(),
    ).toEqual({ id: a.id, seq: 1, duplicate: false })
    const batch = await app.request('/events', {
      method: 'POST',
      headers: { 'content-type': CONSTANTS.MIME_CE_BATCH, ...auth },
      body: JSON.stringify([b, a]),
    })
    expect((await batch.json()).map((r: { duplicate: boolean }) => r.duplicate)).toEqual([
      false,
      true,
    ])
    const { events } = await (await app.request('/events', { headers: auth })).json()
    const read = events.map(
      (e: unknown) =>
        HTTP.toEvent({
          headers: { 'content-type': CONSTANTS.DEFAULT_CE_CONTENT_TYPE },
          body: JSON.stringify(e),
        }) as SdkCloudEvent<{ n: number }>,
    )
    expect(
      read.map((e: SdkCloudEvent<{ n: number }>) => [
        e.id,
        e.type,
        e.source,
        e.data,
        e.partitionkey,
      ]),
    ).toEqual([
      [a.id, 'order.placed', '/shop', { n: 1 }, undefined],
      [b.id, 'order.paid', '/shop', { n: 2 }, 'o2'],
    ])
    expect(await bus.read().then((p) => p.events.length)).toBe(2)
  })

  it("the SDK's HTTP emitter, binary and structured, over a real server", async () => {
    const { bus, app } = setup()
    const url = await listen(app)
    for (const mode of [Mode.BINARY, Mode.STRUCTURED]) {
      const emit = emitterFor(httpTransport(`${url}/events`), { mode })
      await emit(new SdkCloudEvent({ type: 'order.placed', source: '/sdk', data: { mode } }), {
        headers: auth,
      } as never)
    }
    expect((await bus.read()).events.map((e) => [e.source, e.data])).toEqual([
      ['/sdk', { mode: Mode.BINARY }],
      ['/sdk', { mode: Mode.STRUCTURED }],
    ])
  })
})

describe("webhooks in, signed by the providers' own libraries", () => {
  const STANDARD = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  const GITHUB = 'octokit secret'
  const STRIPE = 'whsec_stripe_test'
  const NOW = 1_700_000_000_000
  const setup = () => {
    const bus = createBus({ onError: () => {} })
    const seen: unknown[] = []
    const map = (type: string) => (payload: unknown) => {
      seen.push(payload)
      return { type, data: payload }
    }
    const app = busApp({
      bus,
      auth: false,
      now: () => NOW,
      webhooks: {
        svix: { scheme: 'standard', secrets: [STANDARD], map: map('svix.message') },
        std: { scheme: 'standard', secrets: [STANDARD], map: map('std.message') },
        gh: { scheme: 'github', secrets: [GITHUB], map: map('github.push') },
        stripe: { scheme: 'stripe', secrets: [STRIPE], map: map('stripe.event') },
        strict: { scheme: 'standard', secrets: [STANDARD], tolerance: 10 },
        lenient: { scheme: 'standard', secrets: [STANDARD], tolerance: 3600 },
      },
    })
    return { bus, app, seen }
  }

  it('Svix (svix-* headers) and Standard Webhooks (webhook-* headers) on the standard scheme', async () => {
    const { app, bus } = setup()
    const body = '{"event":"invoice.paid"}'
    const at = new Date(NOW)
    const svix = new SvixWebhook(STANDARD).sign('msg_svix', at, body)
    const r1 = await app.request('/webhooks/svix', {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'svix-id': 'msg_svix',
        'svix-timestamp': String(NOW / 1000),
        'svix-signature': svix,
      },
    })
    expect(await r1.json()).toEqual({ id: 'svix:msg_svix', seq: 1, duplicate: false })
    const std = new StandardWebhook(STANDARD).sign('msg_std', at, body)
    const r2 = await app.request('/webhooks/std', {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_std',
        'webhook-timestamp': String(NOW / 1000),
        'webhook-signature': std,
      },
    })
    expect(await r2.json()).toEqual({ id: 'std:msg_std', seq: 2, duplicate: false })
    // A Svix signature does not pass for another id.
    const forged = await app.request('/webhooks/svix', {
      method: 'POST',
      body,
      headers: {
        'svix-id': 'msg_other',
        'svix-timestamp': String(NOW / 1000),
        'svix-signature': svix,
      },
    })
    expect([forged.status, (await forged.json()).error.code]).toEqual([401, 'BAD_SIGNATURE'])
    expect((await bus.read()).events.map((e) => [e.type, e.data])).toEqual([
      ['svix.message', { event: 'invoice.paid' }],
      ['std.message', { event: 'invoice.paid' }],
    ])
  })

  it('GitHub (Octokit sign), JSON and form-encoded (payload=…); other text reaches map as a string', async () => {
    const { app, seen } = setup()
    const json = '{"ref":"refs/heads/main","zen":"Keep it logically awesome."}'
    const h = async (body: string, type: string, delivery: string) => ({
      'content-type': type,
      'x-hub-signature-256': await signGitHub(GITHUB, body),
      'x-github-delivery': delivery,
    })
    expect(
      (
        await app.request('/webhooks/gh', {
          method: 'POST',
          body: json,
          headers: await h(json, 'application/json', 'd-1'),
        })
      ).status,
    ).toBe(200)
    const form = `payload=${encodeURIComponent(json)}`
    const r = await app.request('/webhooks/gh', {
      method: 'POST',
      body: form,
      headers: await h(form, 'application/x-www-form-urlencoded', 'd-2'),
    })
    expect(await r.json()).toEqual({ id: 'gh:d-2', seq: 2, duplicate: false })
    const text = 'ping from a plain-text hook'
    expect(
      (
        await app.request('/webhooks/gh', {
          method: 'POST',
          body: text,
          headers: await h(text, 'text/plain', 'd-3'),
        })
      ).status,
    ).toBe(200)
    const fields = 'a=1&__proto__=x'
    expect(
      (
        await app.request('/webhooks/gh', {
          method: 'POST',
          body: fields,
          headers: await h(fields, 'application/x-www-form-urlencoded', 'd-4'),
        })
      ).status,
    ).toBe(200)
    expect(seen.slice(0, 3)).toEqual([JSON.parse(json), JSON.parse(json), text])
    expect(Object.entries(seen[3] as object)).toEqual([
      ['a', '1'],
      ['__proto__', 'x'],
    ])
    // A form whose payload field is not JSON is refused after the signature, storing nothing.
    const broken = 'payload=%7Bnot'
    const bad = await app.request('/webhooks/gh', {
      method: 'POST',
      body: broken,
      headers: await h(broken, 'application/x-www-form-urlencoded', 'd-5'),
    })
    expect([bad.status, (await bad.json()).error.code]).toEqual([400, 'INVALID_PAYLOAD'])
  })

  it('Stripe (generateTestHeaderString): the event id from the signed body, scoped to the source', async () => {
    const { app, bus } = setup()
    const stripe = new Stripe('sk_test_interop')
    const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'charge.succeeded' })
    const header = stripe.webhooks.generateTestHeaderString({
      payload,
      secret: STRIPE,
      timestamp: NOW / 1000,
    })
    const r = await app.request('/webhooks/stripe', {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
    })
    expect(await r.json()).toEqual({ id: 'stripe:evt_1', seq: 1, duplicate: false })
    const old = stripe.webhooks.generateTestHeaderString({
      payload,
      secret: STRIPE,
      timestamp: NOW / 1000 - 301,
    })
    const stale = await app.request('/webhooks/stripe', {
      method: 'POST',
      body: payload,
      headers: { 'stripe-signature': old },
    })
    expect([stale.status, (await stale.json()).error.code]).toEqual([401, 'BAD_SIGNATURE'])
    expect((await bus.read()).events).toHaveLength(1)
  })

  it('a per-source tolerance, in seconds', async () => {
    const { app } = setup()
    const body = '{}'
    const send = async (source: string, ageSeconds: number) => {
      const at = new Date(NOW - ageSeconds * 1000)
      const id = `msg_${source}_${ageSeconds}`
      return (
        await app.request(`/webhooks/${source}`, {
          method: 'POST',
          body,
          headers: {
            'webhook-id': id,
            'webhook-timestamp': String(at.getTime() / 1000),
            'webhook-signature': new StandardWebhook(STANDARD).sign(id, at, body),
          },
        })
      ).status
    }
    expect([
      await send('strict', 9),
      await send('strict', 11),
      await send('std', 299),
      await send('std', 1800),
      await send('lenient', 1800),
      await send('lenient', 3601),
    ]).toEqual([200, 401, 200, 401, 200, 401])
    expect(() =>
      busApp({
        bus: createBus(),
        webhooks: { x: { scheme: 'standard', secrets: [STANDARD], tolerance: -1 } },
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
  })
})

describe("webhooks out, verified by the providers' own libraries", () => {
  it('Standard Webhooks and Svix verify what webhookSubscription sends', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    const bus = createBus({ onError: () => {} })
    const verified: unknown[] = []
    const fetch = async (_url: unknown, init?: RequestInit) => {
      const headers = Object.fromEntries(Object.entries(init!.headers as Record<string, string>))
      const body = String(init!.body)
      const a = new StandardWebhook(secret).verify(body, headers)
      const b = new SvixWebhook(secret).verify(body, headers)
      expect(b).toEqual(a)
      // A tampered body fails both.
      expect(() =>
        new StandardWebhook(secret).verify(body.replace('"n":1', '"n":2'), headers),
      ).toThrow()
      expect(() =>
        new SvixWebhook(secret).verify(body.replace('"n":1', '"n":2'), headers),
      ).toThrow()
      verified.push(fromCloudEvent(a).data)
      return new Response(null, { status: 204 })
    }
    await webhookSubscription(bus, {
      name: 'out',
      pattern: '**',
      url: 'https://receiver.example/hook',
      secret,
      fetch,
    })
    await bus.publish('order.placed', { n: 1 })
    await until(() => verified.length === 1)
    await bus.idle()
    expect(verified).toEqual([{ n: 1 }])
    expect(await bus.deadLetters.list()).toEqual([])
    await bus.close()
  })
})
