import { Session } from 'node:inspector/promises'
import fs from 'node:fs'
import { createBus } from 'tidings'
const c = +(process.argv[2] ?? 1), n = 30000
const round = async () => {
  const bus = createBus(); let calls = 0
  await bus.subscribe('bench', 'order.placed', async () => { calls++ }, c === 1 ? undefined : { concurrency: c })
  await bus.idle()
  for (let i = 0; i < n; i++) bus.publish('order.placed', { total: 42 })
  await bus.idle(); await bus.close()
}
await round()
const s = new Session(); s.connect()
await s.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
await round()
const { profile } = await s.post('HeapProfiler.stopSampling')
fs.writeFileSync(process.argv[3], JSON.stringify(profile))
