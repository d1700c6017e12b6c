import type { BusEvent, SubscribeOptions } from '../../src/index.js'
import { compilePattern, fail } from '../../src/internal.js'

const YEAR = 365 * 86_400_000
const NAME = /^[\w-]{1,100}$/

/** The options of `bridge` that are checked here (see `BridgeOptions` for each). */
export interface BridgeSettings {
  url: string
  forward?: string
  receive?: string
  token?: string
  name?: string
  batch?: number
  backoff?: { initial?: number; max?: number }
}

/** A bridge's options, checked and with their defaults. */
export interface CheckedBridgeOptions {
  name: string
  batch: number
  backoff: { initial: number; max: number }
  /** The base URL without trailing slashes. */
  url: string
  headers: Record<string, string>
}

/**
 * Checks a bridge's options (name, url, patterns, batch) with `INVALID_OPTIONS`, and fills in
 * their defaults.
 *
 * @example
 * const { name, batch, backoff, url, headers } = checkBridgeOptions(options)
 */
export const checkBridgeOptions = (o: BridgeSettings): CheckedBridgeOptions => {
  const name = o.name ?? 'bridge'
  if (!NAME.test(name))
    fail(
      'INVALID_OPTIONS',
      `bridge name ${JSON.stringify(name)} must be 1..100 characters of [A-Za-z0-9_-]`,
    )
  if (!/^https?:\/\//.test(o.url))
    fail('INVALID_OPTIONS', `bridge url ${JSON.stringify(o.url)} must be an http(s) URL`)
  if (o.forward === undefined && o.receive === undefined)
    fail('INVALID_OPTIONS', 'a bridge needs forward, receive or both')
  if (o.forward !== undefined) compilePattern(o.forward)
  if (o.receive !== undefined) compilePattern(o.receive)
  const batch = o.batch ?? 100
  if (!Number.isInteger(batch) || batch < 1)
    fail('INVALID_OPTIONS', `batch must be a positive integer, got ${batch}`)
  const backoff = { initial: o.backoff?.initial ?? 1000, max: o.backoff?.max ?? 60_000 }
  const headers: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {}
  return { name, batch, backoff, url: o.url.replace(/\/+$/, ''), headers }
}

/**
 * The options of the bridge's out subscription (`<name>-out`): it never gives up on the network,
 * and skips events it received from the server.
 *
 * @example
 * bus.subscribe(`${name}-out`, forward, send, outSubscription(checked, inbound))
 */
export const outSubscription = (
  checked: CheckedBridgeOptions,
  inbound: Set<string>,
): SubscribeOptions<BusEvent> => ({
  // Each ordering key one at a time (the server sees it in order); the rest travel together.
  concurrency: checked.batch,
  // The handler waits for the network, however long that takes; it never gives up.
  timeout: YEAR,
  retry: {
    attempts: Number.MAX_SAFE_INTEGER,
    backoff: { initial: checked.backoff.initial, max: checked.backoff.max },
  },
  filter: (e) => !inbound.has(e.id),
  // Forwarded as stored: the server's own versions upcast an old client's events.
  raw: true,
  // Events published before the bridge first ran (offline, at boot) go out too. Only a new
  // name starts here; later the stored cursor does.
  from: 'earliest',
})
