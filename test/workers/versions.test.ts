import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { BusEvent } from '../../src/event.js'
import { eventually, freshBus } from './helpers.js'

// The object's bus declares 'versioned.placed' at version 2 (test/workers/worker.ts); events
// published at version 1 (an old client, through the sharded client or POST /events) are stored
// as sent and upcast for the Queue handler, read and the HTTP API.
describe('event versions at the edge', () => {
  it('an event published at version 1 is upcast for a Queue handler; read({ raw: true }) has it as stored', async () => {
    const bus = freshBus()
    const { id } = await bus.publish('versioned.placed', { total: 5 }, { version: 1 } as never)
    const seen = await eventually(
      async () => (await bus.read({ limit: 100 })).events.find((e) => e.type === 'seen.versioned'),
      "the handler's record",
    )
    expect(seen.data).toEqual({ version: 2, data: { amount: 5, currency: 'EUR' } })
    const { events } = await bus.read({ limit: 100 })
    expect(events.find((e) => e.id === id)).toMatchObject({
      version: 2,
      data: { amount: 5, currency: 'EUR' },
    })
    const raw = await bus.read({ limit: 100, raw: true })
    expect(raw.events.find((e) => e.id === id)).toMatchObject({ version: 1, data: { total: 5 } })
  })

  it("an old client's CloudEvent with dataversion 1 (what the bridge forwards) is upcast at the edge", async () => {
    const ce = {
      specversion: '1.0',
      id: `old-${crypto.randomUUID()}`,
      type: 'versioned.placed',
      source: 'old-client',
      dataversion: 1,
      data: { total: 8 },
    }
    const posted = await SELF.fetch('http://worker/events', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify([ce]),
    })
    expect(posted.status).toBe(200)
    const seen = await eventually(async () => {
      const page = (await (
        await SELF.fetch('http://worker/events?topic=seen.versioned&limit=1000')
      ).json()) as { events: { data: { data: { amount: number } } }[] }
      return page.events.find((e) => e.data.data.amount === 8)
    }, "the handler's record")
    expect(seen.data).toEqual({ version: 2, data: { amount: 8, currency: 'EUR' } })
    const page = (await (
      await SELF.fetch('http://worker/events?topic=versioned.placed&limit=1000')
    ).json()) as { events: (BusEvent & { dataversion: number })[] }
    expect(page.events.find((e) => e.id === ce.id)).toMatchObject({
      dataversion: 2,
      data: { amount: 8, currency: 'EUR' },
    })
  })
})
