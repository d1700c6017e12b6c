// Case: publish requests per second through the Hono app on the memory bus, against a bare Hono
// route that answers 200, both driven in-process through app.fetch (no sockets: the app is measured,
// not the network stack). Requests are sent in waves of 64 concurrent.
// usage: node bench/cases/http.js <tidings|bare> <requests per round>
import { args, measure } from '../harness.js'

const {
  subject,
  nums: [n = 20_000],
} = args()
const { Hono } = await import('hono')
const body = JSON.stringify({ type: 'order.placed', data: { total: 42 } })
const init = () => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
  body,
})

const make = {
  async tidings() {
    const { createBus } = await import('tidings')
    const { busApp } = await import('tidings/hono')
    return busApp({ bus: createBus(), tokens: { t: ['publish:**'] } })
  },
  async bare() {
    const app = new Hono()
    app.post('/events', async (c) => {
      await c.req.text()
      return c.json({ ok: true })
    })
    return app
  },
}

const app = await make[subject]()
await measure(
  async (n) => {
    const t0 = performance.now()
    for (let sent = 0; sent < n; sent += 64) {
      const wave = await Promise.all(
        Array.from({ length: Math.min(64, n - sent) }, () =>
          app.fetch(new Request('http://bench/events', init())),
        ),
      )
      for (const r of wave) {
        if (r.status !== 200) throw new Error(`${subject}: status ${r.status}`)
        await r.arrayBuffer()
      }
    }
    return performance.now() - t0
  },
  { n },
)
