import { createServer, type IncomingMessage, type Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { verifyWebhook, webhookSubscription } from '../adapters/hono/index.js'
import { retryAfter } from '../adapters/hono/outgoing.js'
import { createBus } from '../src/bus.js'
import { memoryStore } from '../src/store/memory.js'
import { fromCloudEvent } from '../src/cloudevent.js'

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
let server: Server | undefined
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())))

/** A local receiver that checks every signature and answers what `answer` says. */
const receiver = async (answer: (n: number, data: unknown) => number) => {
  const got: { id: string; data: unknown; status: number }[] = []
  let n = 0
  server = createServer(async (req: IncomingMessage, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const headers = new Headers(
      Object.entries(req.headers).map(([k, v]) => [k, String(v)] as [string, string]),
    )
    try {
      const { id } = await verifyWebhook('standard', {
        body,
        headers,
        secrets: [secret],
        now: Date.now(),
      })
      const data = fromCloudEvent(JSON.parse(body)).data
      const status = answer(++n, data)
      got.push({ id: id!, data, status })
      res.writeHead(status).end()
    } catch {
      got.push({ id: 'bad signature', data: undefined, status: 401 })
      res.writeHead(401).end()
    }
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/hook`, got }
}
const until = async (check: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 300 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10))
}
const quick = { attempts: 3, backoff: { initial: 20, factor: 1, jitter: false } }

describe('outgoing webhooks', () => {
  it('POST each event signed per Standard Webhooks, retry failures with backoff, dead-letter what keeps failing', async () => {
    const { url, got } = await receiver((n, data) =>
      data === 'flaky' && n < 2 ? 500 : data === 'broken' ? 500 : 200,
    )
    const bus = createBus({ onError: () => {} })
    await webhookSubscription(bus, {
      name: 'crm',
      pattern: 'customer.*',
      url,
      secret,
      retry: quick,
    })
    const flaky = await bus.publish('customer.created', 'flaky')
    await bus.publish('customer.updated', 'broken')
    await until(() => got.filter((g) => g.data === 'broken').length === 3)
    await bus.idle()
    expect(got.filter((g) => g.data === 'flaky').map((g) => [g.id, g.status])).toEqual([
      [flaky.id, 500],
      [flaky.id, 200],
    ])
    expect(got.every((g) => g.id !== 'bad signature')).toBe(true)
    const dead = await bus.deadLetters.list({ subscription: 'crm' })
    expect(dead.map((d) => [d.event.data, d.attempts, d.error.message])).toEqual([
      ['broken', 3, `${url} answered 500`],
    ])
    await bus.close()
  })

  it('disables the endpoint on 410 Gone', async () => {
    const { url, got } = await receiver(() => 410)
    const bus = createBus({ onError: () => {} })
    let disabled = ''
    await webhookSubscription(bus, {
      name: 'gone',
      pattern: '**',
      url,
      secret,
      retry: quick,
      onDisabled: (u) => {
        disabled = u
      },
    })
    await bus.publish('a', 1)
    await until(() => disabled !== '')
    await bus.publish('a', 2)
    await new Promise((r) => setTimeout(r, 100))
    await bus.idle()
    expect(disabled).toBe(url)
    expect(got.map((g) => g.data)).toEqual([1])
    expect((await bus.deadLetters.list()).map((d) => d.event.data)).toEqual([1])
    expect((await bus.subscriptions()).map((s) => [s.name, s.attached])).toEqual([['gone', false]])
    await bus.close()
  })

  it('after a 410 in a burst, the events queued behind it wait un-attempted and go out at once when subscribed again (issue 12.11)', async () => {
    const bus = createBus({ onError: () => {} })
    const sent: [unknown, number][] = []
    let answer = 410
    const fetch = async (_url: unknown, init?: RequestInit) => {
      sent.push([fromCloudEvent(JSON.parse(String(init!.body))).data, answer])
      return new Response(null, { status: answer })
    }
    let disabled = 0
    await webhookSubscription(bus, {
      name: 'gone',
      pattern: '**',
      url: 'https://crm.example/hook',
      secret,
      fetch,
      retry: quick,
      onDisabled: () => {
        disabled++
      },
    })
    await bus.publishMany([1, 2, 3].map((data) => ({ type: 'a', data })))
    await until(() => disabled === 1)
    await until(async () => !(await bus.subscriptions())[0]!.attached)
    await bus.idle()
    expect(sent).toEqual([[1, 410]])
    expect((await bus.deadLetters.list()).map((d) => d.event.data)).toEqual([1])
    // Nothing was tried for 2 and 3: no retry waits for them (an hour, before the fix).
    expect((await bus.stats()).map((s) => [s.name, s.retrying, s.lag])).toEqual([['gone', 0, 2]])
    answer = 200
    await webhookSubscription(bus, {
      name: 'gone',
      pattern: '**',
      url: 'https://crm.example/hook',
      secret,
      fetch,
      retry: quick,
    })
    await until(() => sent.length === 3)
    await bus.idle()
    expect(sent).toEqual([
      [1, 410],
      [2, 200],
      [3, 200],
    ])
    expect((await bus.stats()).map((s) => [s.retrying, s.lag, s.deadLetters])).toEqual([[0, 0, 1]])
    await bus.close()
  })

  it('honours Retry-After given in seconds or as an HTTP-date (RFC 9110)', async () => {
    const now = Date.parse('2026-12-03T10:00:00Z')
    expect(retryAfter('120', now)).toBe(120_000)
    expect(retryAfter(' 7 ', now)).toBe(7_000)
    expect(retryAfter('Thu, 03 Dec 2026 10:02:00 GMT', now)).toBe(120_000)
    // The obsolete forms RFC 9110 still asks recipients to accept.
    expect(retryAfter('Thursday, 03-Dec-26 10:01:00 GMT', now)).toBe(60_000)
    expect(retryAfter('Thu Dec  3 10:00:30 2026', now)).toBe(30_000)
    for (const bad of [null, '', 'soon', '-5', '1.5', 'Thu, 03 Dec 2026 09:00:00 GMT'])
      expect(retryAfter(bad, now)).toBe(0)
  })

  it('a 503 with an HTTP-date Retry-After schedules the next attempt then', async () => {
    const store = memoryStore()
    const bus = createBus({ store, onError: () => {} })
    let n = 0
    const fetch = async () =>
      new Response(
        null,
        ++n === 1
          ? {
              status: 503,
              headers: { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() },
            }
          : { status: 200 },
      )
    await webhookSubscription(bus, {
      name: 'busy',
      pattern: '**',
      url: 'https://crm.example/hook',
      secret,
      fetch,
      retry: quick,
    })
    await bus.publish('a', 1)
    await until(() => n === 1)
    await bus.idle()
    // Backoff alone would retry after 20 ms; the date says an hour (to the second).
    const [retry] = await store.list({ prefix: 'r/busy/' })
    expect((retry!.value as { due: number }).due - Date.now()).toBeGreaterThan(3_500_000)
    expect(n).toBe(1)
    await bus.close()
  })
})
