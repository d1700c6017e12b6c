import { createServer, type IncomingMessage, type Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { verifyWebhook, webhookSubscription } from '../adapters/hono/index.js'
import { createBus } from '../src/bus.js'
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
    const headers = new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)] as [string, string]))
    try {
      const { id } = await verifyWebhook('standard', { body, headers, secrets: [secret], now: Date.now() })
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
const until = async (check: () => boolean) => { for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10)) }
const quick = { attempts: 3, backoff: { initial: 20, factor: 1, jitter: false } }

describe('outgoing webhooks', () => {
  it('POST each event signed per Standard Webhooks, retry failures with backoff, dead-letter what keeps failing', async () => {
    const { url, got } = await receiver((n, data) => (data === 'flaky' && n < 2 ? 500 : data === 'broken' ? 500 : 200))
    const bus = createBus({ onError: () => {} })
    await webhookSubscription(bus, { name: 'crm', pattern: 'customer.*', url, secret, retry: quick })
    const flaky = await bus.publish('customer.created', 'flaky')
    await bus.publish('customer.updated', 'broken')
    await until(() => got.filter((g) => g.data === 'broken').length === 3)
    await bus.idle()
    expect(got.filter((g) => g.data === 'flaky').map((g) => [g.id, g.status])).toEqual([[flaky.id, 500], [flaky.id, 200]])
    expect(got.every((g) => g.id !== 'bad signature')).toBe(true)
    const dead = await bus.deadLetters.list({ subscription: 'crm' })
    expect(dead.map((d) => [d.event.data, d.attempts, d.error.message])).toEqual([['broken', 3, `${url} answered 500`]])
    await bus.close()
  })

  it('disables the endpoint on 410 Gone', async () => {
    const { url, got } = await receiver(() => 410)
    const bus = createBus({ onError: () => {} })
    let disabled = ''
    await webhookSubscription(bus, { name: 'gone', pattern: '**', url, secret, retry: quick, onDisabled: (u) => { disabled = u } })
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
})
