// Case: the Cloudflare adapter in workerd (Miniflare), driven from inside a Worker, as in production.
//   group: K producers in one Worker publish through cloudflareBus (one RPC per tick per shard,
//          one storage transaction per RPC batch)
//   raw:   the same K producers, one RPC per event doing one raw SQL INSERT in an object
//   batch: publishMany of <size> events per call, one call at a time
//   queue: events delivered through a Queue to a no-op handler (concurrency 100, batches of 100),
//          from the first publish until every ack is back in the object
// usage: node bench/cases/cloudflare.js <group|raw|batch|queue> <events per round> [K or batch size]
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { fileURLToPath } from 'node:url'
import { args, measure } from '../harness.js'

const {
  subject,
  nums: [n = 5000, k = 100],
} = args()
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false'
process.env.WRANGLER_SEND_METRICS = 'false'
const script = (
  await build({
    entryPoints: [fileURLToPath(new URL('./_cloudflare-worker.js', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'silent',
  })
).outputFiles[0].text
const mf = new Miniflare({
  modules: true,
  script,
  compatibilityDate: '2026-04-20',
  compatibilityFlags: ['nodejs_compat'],
  durableObjects: {
    BUS: { className: 'Bus', useSQLite: true },
    RAW: { className: 'Raw', useSQLite: true },
  },
  queueProducers: { DELIVERY: { queueName: 'delivery' } },
  queueConsumers: { delivery: { maxBatchSize: 100, maxBatchTimeout: 0, maxRetries: 3 } },
})

let rounds = 0
const route = {
  group: `/append?mode=group&k=${k}`,
  raw: `/append?mode=raw&k=${k}`,
  batch: `/batch?size=${k}`,
  queue: '/queue?',
}[subject]
if (!route) throw new Error(`unknown subject ${subject}`)
await measure(
  async (n) => {
    const t0 = performance.now()
    const res = await mf.dispatchFetch(`http://bench${route}&n=${n}&name=round-${++rounds}`)
    if (res.status !== 200) throw new Error(`${subject}: status ${res.status}: ${await res.text()}`)
    await res.arrayBuffer()
    return performance.now() - t0
  },
  { n, warmup: 1 },
)
await mf.dispose()
