import { describe, expect, it } from 'vitest'
// @ts-expect-error plain JS module shared with `npm run bench`
import { BUS_APP, BUS_APP_STARTUP, ENTRY_BUDGET, measureEntry } from '../bench/bundle.js'

// What a user downloads first: the entry chunk of an app that creates a bus, listens and publishes
// (esbuild, ESM, --splitting, minified, gzip -9), held to ENTRY_BUDGET (see bench/bundle.js). Durable delivery,
// read, waitFor, delayed events and schedules load lazily, in chunks of their own, only when used.
// The up-front total (the entry, the chunks it imports statically, which esbuild makes of modules
// shared with the lazy ones, and the memory store's lazy chunk that createBus loads at once) is
// measured and printed for information, not budgeted: a budget on it made code copy constants
// rather than share them (issue 15).

interface Measured {
  entryGzip: number
  entryRaw: number
  eagerGzip: number
  upFrontGzip: number
  inputs: { path: string; bytes: number }[]
}

/** The budget check, one function so the self-check below runs the same code as the guard. */
const overBudget = (measured: Measured, budget: number): string | undefined => {
  if (measured.entryGzip <= budget) return undefined
  const largest = measured.inputs
    .slice(0, 5)
    .map((input) => `${input.path} ${input.bytes}`)
    .join(', ')
  return `entry chunk is ${measured.entryGzip} B gzip, over ${budget} B; largest inputs (minified): ${largest}`
}

describe('bundle size', () => {
  it(`an app using createBus, on and publish has an entry chunk within ${ENTRY_BUDGET} B gzip`, async () => {
    const measured: Measured = await measureEntry(BUS_APP, { startup: BUS_APP_STARTUP })
    expect(overBudget(measured, ENTRY_BUDGET)).toBeUndefined()
    // The measurement is real: the chunk holds the bus (an empty bundle would pass any budget).
    expect(measured.entryRaw).toBeGreaterThan(4000)
    expect(measured.inputs.map((input) => input.path)).toContain('src/bus.ts')
    // Event versions load only for a bus given a versions option.
    expect(measured.inputs.map((input) => input.path)).not.toContain('src/versions.ts')
    // The publish wrapper of tracing comes with the instrumentation (instrument()), not with the bus.
    expect(measured.inputs.map((input) => input.path)).not.toContain('src/trace-publishes.ts')
    expect(measured.eagerGzip).toBeGreaterThanOrEqual(measured.entryGzip)
    expect(measured.upFrontGzip).toBeGreaterThan(measured.eagerGzip) // the memory store's chunk
    console.info(
      `bundle: entry ${measured.entryGzip} B gzip (budget ${ENTRY_BUDGET}), entry + static chunks ${measured.eagerGzip} B, up front ${measured.upFrontGzip} B`,
    )
  })

  it('the guard fails when the entry chunk grows past the budget (self-check)', async () => {
    // The same app plus a string of pseudo-random characters (gzip cannot shrink them much), sized to
    // take the entry chunk a few hundred bytes past the budget: the same check must refuse it.
    const measured: Measured = await measureEntry(BUS_APP)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'
    let state = 12345
    let padding = ''
    while (padding.length < (ENTRY_BUDGET - measured.entryGzip + 300) * 1.5) {
      state = (state * 1103515245 + 12345) % 2 ** 31
      padding += alphabet[Math.floor(state / 65536) % 64] // the high bits: the low ones cycle fast
    }
    const grown: Measured = await measureEntry(`${BUS_APP}\nconsole.log('${padding}')`)
    expect(grown.entryGzip).toBeGreaterThan(ENTRY_BUDGET)
    expect(overBudget(grown, ENTRY_BUDGET)).toMatch(
      new RegExp(`^entry chunk is \\d+ B gzip, over ${ENTRY_BUDGET} B`),
    )
  })
})
