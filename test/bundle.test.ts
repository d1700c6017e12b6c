import { describe, expect, it } from 'vitest'
// @ts-expect-error plain JS module shared with `npm run bench`
import { measureEntry } from '../bench/bundle.js'

const BUDGET = 5 * 1024

describe('bundle size', () => {
  it(`the entry chunk of import { createBus } from 'tidings' stays within ${BUDGET} bytes gzip`, async () => {
    const r = await measureEntry("import { createBus } from 'tidings'; console.log(createBus)")
    const top = r.inputs.slice(0, 5).map((i: { path: string; bytes: number }) => `${i.path} ${i.bytes}`).join(', ')
    expect(r.entryGzip, `entry chunk is ${r.entryGzip} B gzip; largest inputs: ${top}`).toBeLessThanOrEqual(BUDGET)
    // The measurement is real: the chunk holds the bus (an empty bundle would pass any budget).
    expect(r.entryRaw).toBeGreaterThan(2000)
  })
})
