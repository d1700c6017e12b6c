import { TidingsError } from '../../src/errors.js'
import { patternSegments } from '../../src/topic.js'

/** A token's grants: `publish:<pattern>`, `subscribe:<pattern>`, `admin`. */
export type Scope = `publish:${string}` | `subscribe:${string}` | 'admin'

/** What a request may do, once its bearer token is known. */
export interface Grant { token: string; scopes: readonly Scope[] }

const utf8 = new TextEncoder()

/**
 * Equal bytes, in time that depends on the lengths only: it walks every byte of `expected`
 * whatever `given` is, so timing does not tell how much of a guess was right (tokens, MACs).
 */
export const equalBytes = (expected: Uint8Array, given: Uint8Array): boolean => {
  let diff = expected.length ^ given.length
  for (let i = 0; i < expected.length; i++) diff |= expected[i]! ^ (given[i] ?? 0)
  return diff === 0
}

/** The configured tokens, encoded once when the app is made rather than on every request. */
export type TokenTable = readonly { bytes: Uint8Array; grant: Grant }[]
export const tokenTable = (tokens: Record<string, readonly Scope[]>): TokenTable =>
  Object.entries(tokens).map(([token, scopes]) => ({ bytes: utf8.encode(token), grant: { token, scopes } }))

/**
 * The grant of the request's `Authorization: Bearer <token>`, checked against every configured
 * token (all of them, so the time taken says nothing about which one came close).
 */
export const authenticate = (header: string | undefined, table: TokenTable): Grant => {
  const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1]
  if (!token) throw new TidingsError('UNAUTHORIZED', 'a bearer token is required')
  const given = utf8.encode(token)
  let found: Grant | undefined
  for (const t of table) if (equalBytes(t.bytes, given)) found = t.grant
  if (!found) throw new TidingsError('UNAUTHORIZED', 'unknown token')
  return found
}

// Scopes and topics repeat from request to request: remember the answers (bounded).
const known = new Map<string, boolean>()

/** Whether every topic `wanted` can match is matched by `granted` too (segment by segment). */
export const covers = (granted: string, wanted: string): boolean => {
  const k = `${granted} ${wanted}`
  let v = known.get(k)
  if (v === undefined) {
    if (known.size > 10_000) known.clear()
    known.set(k, (v = coversUncached(granted, wanted)))
  }
  return v
}

// Dynamic programming over (granted segment, wanted segment): at most 17 × 17 steps, however many
// `**` either side holds (a search that tries each split of every `**` is exponential in them).
const coversUncached = (granted: string, wanted: string): boolean => {
  const g = patternSegments(granted), w = patternSegments(wanted)
  // ok[j]: granted segments from i on cover wanted segments from j on; filled from the end.
  let ok = w.map(() => false).concat(true)
  for (let i = g.length - 1; i >= 0; i--) {
    const next = ok
    ok = new Array<boolean>(w.length + 1).fill(false)
    for (let j = w.length; j >= 0; j--) {
      if (g[i] === '**') ok[j] = next[j]! || (j < w.length && ok[j + 1]!)
      else ok[j] = j < w.length && w[j] !== '**' && (g[i] === '*' || g[i] === w[j]) && next[j + 1]!
    }
  }
  return ok[0]!
}

/** Throws `FORBIDDEN` unless the grant allows `kind` on `pattern` (admin allows everything). */
export const allow = (grant: Grant, kind: 'publish' | 'subscribe' | 'admin', pattern = '**'): void => {
  const ok = grant.scopes.some((s) => s === 'admin' || (kind !== 'admin' && s.startsWith(`${kind}:`) && covers(s.slice(kind.length + 1), pattern)))
  if (!ok) throw new TidingsError('FORBIDDEN', kind === 'admin' ? 'this route needs the admin scope' : `no ${kind} scope covers "${pattern}"`)
}
