// Schedules: N schedules that each fire once an hour (cron `m * * * *`, minutes spread over the hour),
// then the manual clock advances one hour; the time of that advance is what is measured.
// usage: node bench/cases/schedules.js tidings <schedules>
import { args, median } from '../harness.js'

const {
  nums: [n = 1000],
} = args()
const { createBus } = await import('tidings')
const { manualClock } = await import('tidings/testing')

const round = async () => {
  const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'))
  const bus = createBus({ clock })
  for (let i = 0; i < n; i++)
    await bus.schedule(`job${i}`, { cron: `${i % 60} * * * *`, type: 'job.due', data: { i } })
  await bus.idle()
  globalThis.gc?.()
  const t0 = performance.now()
  await clock.advance(3_600_000)
  const ms = performance.now() - t0
  const { events } = await bus.read({ limit: 10_000 })
  if (events.length !== Math.min(n, 10_000))
    throw new Error(`expected ${n} fires, got ${events.length}`)
  await bus.close()
  return ms
}

await round() // warm up
const samples = []
for (let i = 0; i < 3; i++) samples.push(await round())
const ms = median(samples)
process.stdout.write(JSON.stringify({ n, ms, usPerFire: (ms * 1000) / n, samples }) + '\n')
