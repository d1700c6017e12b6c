// The Worker the Cloudflare bench runs in Miniflare (bundled by bench/cases/cloudflare.js from the
// built package): a BusObject, a raw object doing one SQL insert per RPC call, and a Queue
// subscription with a no-op handler. Each route runs one round and answers when it is done.
import { DurableObject } from 'cloudflare:workers'
import {
  BusObject,
  cloudflareBus,
  defineSubscriptions,
} from '../../dist/adapters/cloudflare/index.js'

const subscriptions = defineSubscriptions({
  bench: { pattern: 'q.*', concurrency: 100, handler: async () => {} },
})

export class Bus extends BusObject {
  constructor(ctx, env) {
    super(ctx, env, { subscriptions, queue: env.DELIVERY, bus: { onError: () => {} } })
  }
}

/** The raw platform: one RPC, one INSERT. */
export class Raw extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env)
    ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS raw (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT, type TEXT, body TEXT, time INTEGER)',
    )
  }
  insert(e) {
    return this.ctx.storage.sql
      .exec(
        'INSERT INTO raw (id, type, body, time) VALUES (?, ?, ?, ?) RETURNING seq',
        e.id,
        e.type,
        JSON.stringify(e.data),
        Date.now(),
      )
      .one().seq
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const q = (k) => Number(url.searchParams.get(k))
    const name = url.searchParams.get('name')
    const bus = cloudflareBus(env.BUS, { name, subscriptions })
    const n = q('n')
    if (url.pathname === '/append') {
      // K producers, each publishing one event at a time (K concurrent requests sharing a client).
      const raw = env.RAW.get(env.RAW.idFromName(name))
      let sent = 0
      const producer = async () => {
        while (sent < n) {
          const i = sent++
          if (url.searchParams.get('mode') === 'raw')
            await raw.insert({ id: `e${i}`, type: 'bench.event', data: { i } })
          else await bus.publish('bench.event', { i })
        }
      }
      await Promise.all(Array.from({ length: q('k') }, producer))
      return Response.json({ ok: true })
    }
    if (url.pathname === '/batch') {
      for (let i = 0; i < n; i += q('size'))
        await bus.publishMany(
          Array.from({ length: Math.min(q('size'), n - i) }, (_, j) => ({
            type: 'bench.event',
            data: { i: i + j },
          })),
        )
      return Response.json({ ok: true })
    }
    if (url.pathname === '/queue') {
      for (let i = 0; i < n; i += 1000)
        await bus.publishMany(
          Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
            type: 'q.event',
            data: { i: i + j },
          })),
        )
      for (;;) {
        const s = (await bus.stats()).find((x) => x.name === 'bench')
        if (s && s.lag === 0 && s.inFlight === 0) return Response.json(s)
        await sleep(5)
      }
    }
    return new Response('no route', { status: 404 })
  },
  async queue(batch, env) {
    await cloudflareBus(env.BUS, { subscriptions }).queue(batch)
  },
}
