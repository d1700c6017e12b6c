import { describe, expect, it } from 'vitest'
// @ts-expect-error plain JS module shared with `npm run bench`
import { measureEntry } from '../bench/bundle.js'

// The issue asks for 5 kB gzip for the entry chunk (esbuild, --splitting, minified, gzip -9) of
// the core with durable delivery and schedules. Durable subscriptions, read, waitFor, delayed
// events and the memory store's implementation load lazily; what is left (publish, the log with
// group commit, dedup and retention, live listeners) measures 5.3 kB, so the budget is not met
// (see README, Benchmarks). These guards hold today's size plus a little room against growth.
// esbuild also moves modules shared with the lazy chunks into chunks the entry imports
// statically; those load with it, so the up-front total has a guard of its own.
// Issue 12's hardening (argument checks on every entry point, the payload walk that bails early,
// safe value descriptions) added about 0.7 kB gzip, most of it in the chunk shared with the lazy
// modules that now check their own arguments: the eager budget grew from 7.2 to 8.0 kB for it.
const ENTRY_BUDGET = 5.6 * 1024
const EAGER_BUDGET = 8.0 * 1024

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
