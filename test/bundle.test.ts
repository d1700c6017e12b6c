import { describe, expect, it } from 'vitest'
// @ts-expect-error plain JS module shared with `npm run bench`
import { measureEntry } from '../bench/bundle.js'

// The budget is for the entry chunk (esbuild, --splitting, minified, gzip -9). With
// splitting, esbuild also moves modules shared with lazy chunks (durable subscriptions, read,
// waitFor, the memory store's implementation) into chunks the entry imports statically; those
// load with it, so they get a guard of their own, set at what they measure (6.4 kB) plus room.
const ENTRY_BUDGET = 5 * 1024
const EAGER_BUDGET = 7 * 1024

describe('bundle size', () => {
  it("import { createBus } from 'tidings' stays within its budgets", async () => {
    const r = await measureEntry("import { createBus } from 'tidings'; console.log(createBus)")
    const top = r.inputs.slice(0, 5).map((i: { path: string; bytes: number }) => `${i.path} ${i.bytes}`).join(', ')
    expect(r.entryGzip, `entry chunk is ${r.entryGzip} B gzip; largest inputs: ${top}`).toBeLessThanOrEqual(ENTRY_BUDGET)
    expect(r.eagerGzip, `entry plus static chunks is ${r.eagerGzip} B gzip`).toBeLessThanOrEqual(EAGER_BUDGET)
    // The measurement is real: the chunk holds the bus (an empty bundle would pass any budget).
    expect(r.entryRaw).toBeGreaterThan(4000)
  })
})
