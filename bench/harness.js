// Shared by the case scripts: warm up, time a few rounds, print one JSON line for bench/run.js.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Throws unless a listener saw exactly the calls it should have (a benchmark that drops events is void). */
export const expectCalls = (got, want, what) => {
  if (got !== want) throw new Error(`${what}: listener saw ${got} calls, expected ${want}`)
}

/**
 * Runs `round(n)` (which times its own hot loop with performance.now() and returns the milliseconds)
 * `warmup` times untimed on `warmupN` events, then `rounds` times on `n`; prints `{ opsPerSec, samples }`
 * where opsPerSec is the median of the timed rounds. The runner may lower the counts for a long job
 * through BENCH_ROUNDS and BENCH_WARMUP_N. Run with --expose-gc to collect garbage before each timed round.
 */
export async function measure(
  round,
  {
    n,
    warmup = 2,
    rounds = Number(process.env.BENCH_ROUNDS ?? 3),
    warmupN = Math.min(n, Number(process.env.BENCH_WARMUP_N ?? n)),
  },
) {
  for (let i = 0; i < warmup; i++) await round(warmupN)
  const samples = []
  for (let i = 0; i < rounds; i++) {
    globalThis.gc?.()
    const ms = await round(n)
    samples.push((n / ms) * 1000)
  }
  process.stdout.write(JSON.stringify({ n, opsPerSec: median(samples), samples }) + '\n')
}

/** Parses `node bench/cases/<case>.js <subject> <numbers...>`. */
export const args = () => {
  const [subject, ...rest] = process.argv.slice(2)
  return { subject, nums: rest.map(Number) }
}

/**
 * One timed round on a tidings bus: `attach(bus, count)` wires the listeners (calling `count()` per
 * call), then `n` publishes of `topic` (with `options`, if given) go out unawaited and the round ends when the bus is idle.
 * Checks the listeners saw `perEvent * n` calls; returns the milliseconds.
 */
export const tidingsRound = async (
  createBus,
  { n, topic, data, options, perEvent = 1, what = 'tidings', attach },
) => {
  const bus = createBus()
  let calls = 0
  await attach(bus, () => {
    calls++
  })
  await bus.idle()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) bus.publish(topic, data, options)
  await bus.idle()
  const ms = performance.now() - t0
  expectCalls(calls, perEvent * n, what)
  await bus.close()
  return ms
}
