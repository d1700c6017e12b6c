// Live listeners across tabs at scale: every tab's bus hears every other tab's commits through the
// store's watch, and a wake-up that races a read of the head must not be lost (issue 13.2).
import { afterEach, describe, expect, it } from 'vitest'
import type { BusEvent } from '../../src/event.js'
import { openTab, type Tab } from './_tabs.js'
import { unique, until } from './_wait.js'

const tabs: Tab[] = []
const open = async () => {
  const t = await openTab()
  tabs.push(t)
  return t
}
afterEach(() => {
  for (const t of tabs.splice(0)) t.close()
})

describe('live listeners across tabs at scale', () => {
  it("three tabs publishing bursts of 40 at once (in one commit, or one commit each): every tab's listener gets every event, in log order", async () => {
    const ROUNDS = 4
    const BURST = 40
    const ts = [await open(), await open(), await open()]
    for (let round = 0; round < ROUNDS; round++) {
      const name = unique(`burst${round}`)
      const seen: BusEvent[][] = [[], [], []]
      const buses = ts.map((t, i) => {
        const bus = t.api.createBus({ store: t.api.indexedDBStore({ name }) })
        bus.on('**', (e) => {
          seen[i]!.push(e)
        })
        return bus
      })
      for (const bus of buses) await bus.idle()
      // All three bursts at once: each tab's appends race the others' commits and notifications.
      // Odd rounds commit each event on its own, so 120 commits race every tab's reads of the head.
      await Promise.all(
        buses.map(async (bus, i) => {
          if (round % 2 === 0)
            await Promise.all(
              Array.from({ length: BURST }, (_, n) =>
                bus.publish(`from.t${i}`, ts[i]!.data({ n })),
              ),
            )
          else for (let n = 0; n < BURST; n++) await bus.publish(`from.t${i}`, ts[i]!.data({ n }))
        }),
      )
      const total = BURST * buses.length
      // No later commit comes to the rescue: the events must arrive on the wake-ups they caused.
      await until(
        () => seen.every((s) => s.length >= total),
        `round ${round}: every tab to see ${total} events`,
        30_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message} (saw ${seen.map((s) => s.length).join('/')})`)
      })
      for (const s of seen) {
        expect(s.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, k) => k + 1))
      }
      for (const bus of buses) await bus.close()
    }
  }, 180_000)

  it('two tabs under load see every one of 14 schedule ticks, in log order', async () => {
    const TICKS = 14
    const name = unique('ticks')
    const ts = [await open(), await open()]
    const start = 1_800_000_000_000
    const clock = ts[0]!.api.manualClock(start)
    const beats: string[][] = [[], []]
    const all: number[][] = [[], []]
    const buses = ts.map((t, i) => {
      const bus = t.api.createBus({ store: t.api.indexedDBStore({ name }), clock })
      bus.on('heartbeat', (e) => {
        beats[i]!.push(e.id)
      })
      bus.on('**', (e) => {
        all[i]!.push(e.seq)
      })
      return bus
    })
    for (const [i, bus] of buses.entries())
      await bus.schedule('beat', ts[i]!.data({ every: 60_000, type: 'heartbeat', data: {} }))
    // Each tick lands while both tabs publish a burst: the tick's commit races theirs.
    let published = 0
    for (let k = 0; k < TICKS; k++) {
      const bursts = buses.map((bus, i) =>
        Promise.all(
          Array.from({ length: 10 }, (_, n) => bus.publish(`load.t${i}`, ts[i]!.data({ k, n }))),
        ),
      )
      await clock.advance(60_000)
      await Promise.all(bursts)
      published += 20
    }
    const total = published + TICKS
    await until(
      () => all.every((s) => s.length >= total),
      `both tabs to see ${total} events (saw ${all.map((s) => s.length).join('/')})`,
      30_000,
    )
    const { events } = await buses[0]!.read({ pattern: 'heartbeat' })
    expect(events.map((e) => e.id)).toEqual(
      Array.from(
        { length: TICKS },
        (_, k) => `schedule:beat:${start - (start % 60_000) + (k + 1) * 60_000}`,
      ),
    )
    for (const i of [0, 1]) {
      expect(beats[i]).toEqual(events.map((e) => e.id))
      expect(all[i]).toEqual(Array.from({ length: total }, (_, k) => k + 1))
    }
    for (const bus of buses) await bus.close()
  }, 120_000)
})
