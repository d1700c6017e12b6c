import { TidingsError } from '../../src/errors.js'
import { equalBytes } from './_auth.js'

/**
 * How an incoming webhook is signed: Standard Webhooks (`webhook-*` headers, or Svix's `svix-*`),
 * GitHub (`X-Hub-Signature-256`) or Stripe (`Stripe-Signature`).
 */
export type WebhookScheme = 'standard' | 'github' | 'stripe'

type Bytes = Uint8Array<ArrayBuffer>
const enc = new TextEncoder()
const bad = (message: string): never => {
  throw new TidingsError('BAD_SIGNATURE', message)
}

const hmac = async (key: Bytes, data: string | Bytes): Promise<Bytes> => {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])
  return new Uint8Array(
    await crypto.subtle.sign('HMAC', k, typeof data === 'string' ? enc.encode(data) : data),
  )
}

/** `prefix` then the body, as bytes: what the provider signed (the raw body, never text re-encoded). */
const signed = (prefix: string, body: string | Bytes): Bytes => {
  if (typeof body === 'string') return enc.encode(prefix + body) as Bytes
  const head = enc.encode(prefix)
  const out = new Uint8Array(head.length + body.length)
  out.set(head)
  out.set(body, head.length)
  return out
}

const fromBase64 = (s: string): Bytes | undefined => {
  try {
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0))
  } catch {
    return undefined
  }
}
const toBase64 = (b: Bytes): string => btoa(String.fromCharCode(...b))
const fromHex = (s: string): Bytes | undefined =>
  /^(?:[0-9a-f]{2})+$/i.test(s)
    ? Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16))
    : undefined

// A Standard Webhooks secret is `whsec_<base64 key>`; a bare base64 key is accepted too.
const standardKey = (secret: string, which: string): Bytes => {
  const key = fromBase64(secret.startsWith('whsec_') ? secret.slice(6) : secret)
  if (!key?.length)
    throw new TidingsError(
      'INVALID_OPTIONS',
      `${which} is not a whsec_<base64> Standard Webhooks secret`,
    )
  return key
}

const header = (headers: Headers, name: string): string =>
  headers.get(name) ?? bad(`missing header ${name}`)

const unixSeconds = (value: string, name: string): number =>
  /^\d{1,15}$/.test(value)
    ? Number(value)
    : bad(`malformed header ${name}: timestamp is not unix seconds`)

const checkFresh = (seconds: number, now: number, toleranceMs: number): void => {
  const skew = now - seconds * 1000
  if (Math.abs(skew) > toleranceMs) {
    bad(
      `stale timestamp: ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? 'old' : 'in the future'}, tolerance ${toleranceMs / 1000} s`,
    )
  }
}

// True if any key signs `content` to any of the given MACs; every pair is checked so the match position does not leak.
const anyMatch = async (
  keys: readonly Bytes[],
  content: Bytes,
  macs: readonly Bytes[],
): Promise<boolean> => {
  let ok = false
  for (const key of keys) {
    const expected = await hmac(key, content)
    for (const mac of macs) ok = equalBytes(expected, mac) || ok
  }
  return ok
}

/**
 * Verifies an incoming webhook's signature against the raw body, with WebCrypto only. Give the
 * body's bytes (`await request.arrayBuffer()`) where it may not be clean UTF-8: text is checked as
 * its UTF-8 encoding, which differs from the bytes sent when they held a byte-order mark or invalid UTF-8.
 * Resolves the provider's delivery id (`webhook-id` or `svix-id`, `X-GitHub-Delivery`, or the Stripe event's `id`),
 * which becomes the event id, and for timestamped schemes the signing time in epoch ms.
 * Throws `TidingsError('BAD_SIGNATURE')` naming the failed check: missing header, malformed header,
 * stale timestamp (outside ±`toleranceMs`, default 5 minutes) or no matching signature.
 * Several `secrets` allow key rotation: any secret matching any signature passes.
 *
 * @example
 * const body = await c.req.text() // the raw body: parsing first breaks the signature
 * const { id } = await verifyWebhook('github', { body, headers: c.req.raw.headers, secrets: [secret], now: Date.now() })
 * await bus.publish('github.push', JSON.parse(body), { id })
 */
export async function verifyWebhook(
  scheme: WebhookScheme,
  o: {
    body: string | Uint8Array<ArrayBuffer>
    headers: Headers
    secrets: readonly string[]
    now: number
    toleranceMs?: number
  },
): Promise<{ id: string | undefined; timestamp?: number }> {
  if (!o.secrets.length)
    throw new TidingsError('INVALID_OPTIONS', `no secret to verify a ${scheme} webhook with`)
  const tolerance = o.toleranceMs ?? 5 * 60_000
  const { headers, body } = o

  if (scheme === 'github') {
    const value = header(headers, 'x-hub-signature-256')
    const mac =
      /^sha256=([0-9a-f]{64})$/i.exec(value.trim())?.[1] ??
      bad('malformed header x-hub-signature-256: expected sha256=<hex>')
    if (
      !(await anyMatch(
        o.secrets.map((s) => enc.encode(s) as Bytes),
        signed('', body),
        [fromHex(mac)!],
      ))
    )
      bad('no matching signature in x-hub-signature-256')
    return { id: headers.get('x-github-delivery') ?? undefined }
  }

  if (scheme === 'stripe') {
    const fields = header(headers, 'stripe-signature')
      .split(',')
      .map((f) => f.trim().split('=', 2) as [string, string?])
    const ts = fields.filter(([k]) => k === 't')
    if (ts.length !== 1) bad('malformed header stripe-signature: expected one t=<unix seconds>')
    const t = unixSeconds(ts[0]![1] ?? '', 'stripe-signature')
    const macs = fields.flatMap(([k, v]) => (k === 'v1' && v ? (fromHex(v) ?? []) : []))
    if (!macs.length) bad('malformed header stripe-signature: no v1=<hex> signature')
    checkFresh(t, o.now, tolerance)
    if (
      !(await anyMatch(
        o.secrets.map((s) => enc.encode(s) as Bytes),
        signed(`${t}.`, body),
        macs,
      ))
    )
      bad('no matching v1 signature in stripe-signature')
    let id: string | undefined
    try {
      const event: unknown = JSON.parse(
        typeof body === 'string' ? body : new TextDecoder().decode(body),
      )
      if (event && typeof event === 'object' && 'id' in event && typeof event.id === 'string')
        id = event.id
    } catch {
      /* a signed but non-JSON body has no event id */
    }
    return { id, timestamp: t * 1000 }
  }

  // Svix, behind many providers' webhooks, signs the same way under its own header names.
  const p =
    !headers.has('webhook-id') &&
    !headers.has('webhook-timestamp') &&
    !headers.has('webhook-signature') &&
    headers.has('svix-signature')
      ? 'svix'
      : 'webhook'
  const id = header(headers, `${p}-id`)
  const raw = header(headers, `${p}-timestamp`)
  const signature = header(headers, `${p}-signature`)
  const t = unixSeconds(raw, `${p}-timestamp`)
  // Space-separated `version,base64` pairs; versions other than v1 (e.g. v1a, asymmetric) are skipped.
  const macs = signature
    .split(' ')
    .flatMap((s) => (s.startsWith('v1,') ? (fromBase64(s.slice(3)) ?? []) : []))
  if (!macs.length) bad(`malformed header ${p}-signature: no v1,<base64> signature`)
  checkFresh(t, o.now, tolerance)
  const keys = o.secrets.map((s, i) => standardKey(s, `secrets[${i}]`))
  if (!(await anyMatch(keys, signed(`${id}.${raw}.`, body), macs)))
    bad(`no matching v1 signature in ${p}-signature`)
  return { id, timestamp: t * 1000 }
}

/**
 * Signs an outgoing webhook per Standard Webhooks: returns the `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` headers for `body` (send it byte for byte as signed). `timestamp` is unix seconds;
 * `secret` is `whsec_<base64>` (or the bare base64 key).
 *
 * @example
 * const body = JSON.stringify(event)
 * const signed = await signStandard({ id: event.id, timestamp: Math.floor(Date.now() / 1000), body, secret })
 * await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signed } })
 */
export async function signStandard(o: {
  id: string
  timestamp: number
  body: string
  secret: string
}): Promise<{
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}> {
  if (!Number.isSafeInteger(o.timestamp) || o.timestamp < 0)
    throw new TidingsError('INVALID_OPTIONS', `timestamp ${o.timestamp} is not unix seconds`)
  const mac = await hmac(standardKey(o.secret, 'secret'), `${o.id}.${o.timestamp}.${o.body}`)
  return {
    'webhook-id': o.id,
    'webhook-timestamp': String(o.timestamp),
    'webhook-signature': `v1,${toBase64(mac)}`,
  }
}
