import { TidingsError } from '../../src/errors.js'
import { patternSegments } from '../../src/topic.js'

/** A token's grants: `publish:<pattern>`, `subscribe:<pattern>`, `admin`. */
export type Scope = `publish:${string}` | `subscribe:${string}` | 'admin'

/** What a request may do, once its bearer token is known. */
export interface Grant { token: string; scopes: readonly Scope[] }

const bytes = new TextEncoder()

/** Equal strings, compared in time that depends on the lengths only, never on where they differ. */
export const constantTimeEqual = (a: string, b: string): boolean => {
  const x = bytes.encode(a), y = bytes.encode(b)
  let diff = x.length ^ y.length
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return diff === 0
}

/**
 * The grant of the request's `Authorization: Bearer <token>`, checked against every configured
 * token (all of them, so the time taken says nothing about which one came close).
 */
export const authenticate = (header: string | undefined, tokens: Record<string, readonly Scope[]>): Grant => {
  const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1]
  if (!token) throw new TidingsError('UNAUTHORIZED', 'a bearer token is required')
  let found: Grant | undefined
  for (const [t, scopes] of Object.entries(tokens)) if (constantTimeEqual(t, token)) found = { token: t, scopes }
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

const coversUncached = (granted: string, wanted: string): boolean => {
  const g = patternSegments(granted), w = patternSegments(wanted)
  const go = (i: number, j: number): boolean => {
    if (i === g.length) return j === w.length
    if (g[i] === '**') return j <= w.length && (go(i + 1, j) || (j < w.length && go(i, j + 1)))
    if (j === w.length || w[j] === '**') return false
    return (g[i] === '*' || g[i] === w[j]) && go(i + 1, j + 1)
  }
  return go(0, 0)
}

/** Throws `FORBIDDEN` unless the grant allows `kind` on `pattern` (admin allows everything). */
export const allow = (grant: Grant, kind: 'publish' | 'subscribe' | 'admin', pattern = '**'): void => {
  const ok = grant.scopes.some((s) => s === 'admin' || (kind !== 'admin' && s.startsWith(`${kind}:`) && covers(s.slice(kind.length + 1), pattern)))
  if (!ok) throw new TidingsError('FORBIDDEN', kind === 'admin' ? 'this route needs the admin scope' : `no ${kind} scope covers "${pattern}"`)
}
