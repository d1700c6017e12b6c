// Case 6: heap held by a bus with one durable subscription after many handled events, default
// retention (and default dedup window and consumer ledger). Events are published in bursts (publishes
// not awaited one by one), `await bus.idle()` after each; the handler is an async no-op. At each
// checkpoint: gc, then process.memoryUsage().heapUsed. `base` is the same measure right after
// subscribe, before any event. Also reports the handling rate over the whole run (bursts of `burst`).
// usage: node bench/cases/heap.js [total events] [burst] [checkpoints, comma-separated]
// prints { n, burst, base, at: { [events]: { heapUsed, opsPerSec } }, opsPerSec }, where at's opsPerSec is the
// handling rate between the previous checkpoint and this one (time spent in publish + idle only).
import { expectCalls } from '../harness.js'

const [n = 1_000_000, burst = 10_000] = process.argv.slice(2, 4).map(Number)
const checkpoints = (process.argv[4] ?? '100000,500000,1000000').split(',').map(Number)
if (!globalThis.gc) throw new Error('run with --expose-gc')
const { createBus } = await import('tidings')

const heap = () => {
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}
const data = { total: 42 }
const bus = createBus()
let calls = 0
await bus.subscribe('bench', 'order.placed', async () => {
  calls++
})
await bus.idle()
const base = heap()
const at = {}
let busyMs = 0
let since = { done: 0, ms: 0 }
for (let done = 0; done < n;) {
  const t0 = performance.now()
  const k = Math.min(burst, n - done)
  for (let i = 0; i < k; i++) bus.publish('order.placed', data)
  await bus.idle()
  busyMs += performance.now() - t0
  done += k
  if (checkpoints.includes(done)) {
    at[done] = { heapUsed: heap(), opsPerSec: ((done - since.done) / (busyMs - since.ms)) * 1000 }
    since = { done, ms: busyMs }
  }
}
expectCalls(calls, n, 'tidings')
await bus.close()
process.stdout.write(JSON.stringify({ n, burst, base, at, opsPerSec: (n / busyMs) * 1000 }) + '\n')
