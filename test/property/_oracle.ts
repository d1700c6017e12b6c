import fc from 'fast-check'
import { TidingsError, type ErrorCode } from '../../src/errors.js'
import type { Store } from '../../src/store/store.js'

/**
 * The codes README documents as refusals of bad input (NON_RETRIABLE and RETRY_AFTER are thrown by
 * handlers, never by tidings at a caller).
 */
export const DOCUMENTED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_TOPIC',
  'INVALID_PATTERN',
  'INVALID_FILTER',
  'INVALID_PAYLOAD',
  'INVALID_OPTIONS',
  'INVALID_CURSOR',
  'INVALID_SCHEDULE',
  'PAYLOAD_TOO_LARGE',
  'STORAGE_FULL',
  'CONFLICT',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'BAD_SIGNATURE',
  'RATE_LIMITED',
  'TIMEOUT',
  'ALREADY_SUBSCRIBED',
  'CLOSED',
])

/**
 * Runs and counts property checks. The seed is fixed per run of `npm test` (FUZZ_SEED overrides it)
 * and `npm run fuzz` multiplies every count by FUZZ_SCALE, so a failure is replayed with
 * `FUZZ_SEED=<seed> npx vitest run <file>` (fast-check prints the seed and path on failure).
 */
export const SEED = Number(process.env.FUZZ_SEED ?? 20261203)
export const SCALE = Number(process.env.FUZZ_SCALE ?? 1)

/** fast-check parameters for `numRuns` generated inputs (times FUZZ_SCALE). */
export const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns: Math.max(1, Math.round(numRuns * SCALE)),
  seed: SEED,
})

/** Every entry of a store, by key, for "nothing written" checks. */
export const snapshot = async (store: Store): Promise<Map<string, string>> => {
  const all = await store.list({})
  return new Map(all.map((e) => [e.key, e.version]))
}

/**
 * The oracle for one call with generated input: it succeeds, or it rejects with a TidingsError whose
 * code is documented. Anything else (a TypeError, a RangeError, a raw thrown value) is returned as a
 * failure message. `Object.prototype` must not change either way.
 */
export const settle = async (
  call: () => unknown,
): Promise<{ ok: true; value: unknown } | { ok: false; error: TidingsError }> => {
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).join()
  let outcome: { ok: true; value: unknown } | { ok: false; error: TidingsError }
  try {
    outcome = { ok: true, value: await call() }
  } catch (e) {
    if (!(e instanceof TidingsError))
      throw new Error(`not a TidingsError: ${describe(e)}`, { cause: e })
    if (!DOCUMENTED_CODES.has(e.code)) throw new Error(`undocumented code ${e.code}: ${e.message}`)
    outcome = { ok: false, error: e }
  }
  if (Object.getOwnPropertyNames(Object.prototype).join() !== protoKeys)
    throw new Error('Object.prototype changed')
  return outcome
}

const describe = (e: unknown): string => {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  } catch {
    return '(unprintable)'
  }
}
