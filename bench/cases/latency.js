// Case 5: publish-to-handler latency at a steady rate. Events are published on a schedule (event i is
// due at start + i / rate ms on the real clock): a pacing loop, yielding to the event loop through
// setImmediate between passes, publishes every event whose time has come. Each event carries
// performance.now() taken just before its publish; the handler records performance.now() - t0.
// `durable`: one durable subscription (default options: concurrency 1), async no-op handler.
// `live`: one live listener (bus.on), for comparison.
// A warm-up phase (same rate, not recorded) runs first on the same bus.
// usage: node bench/cases/latency.js <durable|live> [events per second] [events] [warm-up events]
// prints { n, rate, p50, p99, max, mean, over2ms, lateMs, gc } (milliseconds): over2ms counts events slower than 2 ms;
// lateMs is how far the pacing loop fell behind its schedule at worst (a stalled event loop);
// gc sums the garbage collector's pauses during the measured phase ({ count, totalMs, maxMs }).
import { PerformanceObserver } from 'node:perf_hooks'
import { args, expectCalls } from '../harness.js'

const {
  subject,
  nums: [rate = 10_000, n = 30_000, warmN = 10_000],
} = args()
if (!['durable', 'live'].includes(subject)) throw new Error(`unknown subject ${subject}`)
const { createBus } = await import('tidings')

const bus = createBus()
let lat = new Float64Array(warmN)
let got = 0
const record = (e) => {
  lat[got++] = performance.now() - e.data.t0
}
if (subject === 'live') bus.on('order.placed', record)
else
  await bus.subscribe('bench', 'order.placed', async (e) => {
    record(e)
  })
await bus.idle()

/** Publishes `count` events at `rate` per second; resolves once all are handled. */
const paced = (count) =>
  new Promise((resolve) => {
    const start = performance.now()
    const period = 1000 / rate
    let i = 0
    let late = 0
    const pass = () => {
      const now = performance.now()
      while (i < count && start + i * period <= now) {
        late = Math.max(late, now - (start + i * period))
        bus.publish('order.placed', { total: 42, t0: performance.now() })
        i++
      }
      if (i < count) setImmediate(pass)
      else resolve(late)
    }
    pass()
  })

await paced(warmN)
await bus.idle()
expectCalls(got, warmN, `${subject} (warm-up)`)
globalThis.gc?.()
lat = new Float64Array(n)
got = 0
const gc = { count: 0, totalMs: 0, maxMs: 0 }
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++
    gc.totalMs += e.duration
    gc.maxMs = Math.max(gc.maxMs, e.duration)
  }
})
obs.observe({ entryTypes: ['gc'] })
const lateMs = await paced(n)
await bus.idle()
await new Promise((r) => setImmediate(r)) // let the observer see the last entries
obs.disconnect()
expectCalls(got, n, subject)
await bus.close()

const sorted = [...lat].sort((a, b) => a - b)
const q = (p) => sorted[Math.min(n - 1, Math.ceil(p * n) - 1)]
process.stdout.write(
  JSON.stringify({
    n,
    rate,
    p50: q(0.5),
    p99: q(0.99),
    max: sorted[n - 1],
    mean: lat.reduce((s, x) => s + x, 0) / n,
    over2ms: lat.filter((x) => x > 2).length,
    lateMs,
    gc,
  }) + '\n',
)
