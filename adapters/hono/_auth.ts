import { fail, TidingsError } from '../../src/errors.js'
import { patternCovers } from '../../src/topic/pattern.js'
import { patternSegments } from '../../src/topic/topic.js'

/** A token's grants: `publish:<pattern>`, `subscribe:<pattern>`, `admin`. */
export type Scope = `publish:${string}` | `subscribe:${string}` | 'admin'

/** What a request may do, once its bearer token is known. */
export interface Grant {
  token: string
  scopes: readonly Scope[]
}

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

/**
 * Checks and encodes the configured tokens: a token no `Authorization: Bearer` header can carry, or
 * a scope that is not `admin`, `publish:<pattern>` or `subscribe:<pattern>`, is `INVALID_OPTIONS`
 * now, rather than a client's 400 at request time that quotes the configuration.
 *
 * @example
 * const table = tokenTable({ [token]: ['publish:order.**', 'subscribe:**'] })
 */
export const tokenTable = (tokens: Record<string, readonly Scope[]>): TokenTable =>
  Object.entries(tokens).map(([token, scopes]) => {
    if (!/^\S+$/.test(token))
      fail(
        'INVALID_OPTIONS',
        'tokens: a token must be one or more characters other than white space',
      )
    if (!Array.isArray(scopes))
      fail('INVALID_OPTIONS', "tokens: each token's scopes must be an array")
    for (const s of scopes as unknown[]) {
      if (s === 'admin') continue
      const kind =
        (typeof s === 'string' ? /^(publish|subscribe):/.exec(s)?.[0] : undefined) ??
        fail(
          'INVALID_OPTIONS',
          `tokens: scope ${typeof s === 'string' ? JSON.stringify(s) : typeof s} is not admin, publish:<pattern> or subscribe:<pattern>`,
        )
      try {
        patternSegments((s as string).slice(kind.length))
      } catch (e) {
        fail('INVALID_OPTIONS', `tokens: scope ${JSON.stringify(s)}: ${(e as Error).message}`)
      }
    }
    return { bytes: utf8.encode(token), grant: { token, scopes } }
  })

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

const coversUncached = patternCovers

/** Throws `FORBIDDEN` unless the grant allows `kind` on `pattern` (admin allows everything). */
export const allow = (
  grant: Grant,
  kind: 'publish' | 'subscribe' | 'admin',
  pattern = '**',
): void => {
  const ok = grant.scopes.some(
    (s) =>
      s === 'admin' ||
      (kind !== 'admin' && s.startsWith(`${kind}:`) && covers(s.slice(kind.length + 1), pattern)),
  )
  if (!ok)
    throw new TidingsError(
      'FORBIDDEN',
      kind === 'admin'
        ? 'this route needs the admin scope'
        : `no ${kind} scope covers "${pattern}"`,
    )
}
