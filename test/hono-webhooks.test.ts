import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { signStandard, verifyWebhook, type WebhookScheme } from '../adapters/hono/webhooks.js'
import { TidingsError } from '../src/errors.js'

const MIN = 60_000

const rejects = async (
  scheme: WebhookScheme,
  o: Parameters<typeof verifyWebhook>[1],
  message: RegExp,
) => {
  const err = await verifyWebhook(scheme, o).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(TidingsError)
  expect((err as TidingsError).code).toBe('BAD_SIGNATURE')
  expect((err as TidingsError).message).toMatch(message)
  for (const s of o.secrets) expect((err as TidingsError).message).not.toContain(s)
}

describe('verifyWebhook standard', () => {
  // The test vector of the standard-webhooks reference libraries.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek'
  const ts = 1614265330
  const body = '{"test": 2432232314}'
  const sig = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
  const now = ts * 1000
  const headers = (over: Record<string, string | null> = {}) => {
    const h = new Headers({
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': sig,
    })
    for (const [k, v] of Object.entries(over)) v === null ? h.delete(k) : h.set(k, v)
    return h
  }
  const other = 'whsec_' + btoa('another key, 32 bytes long......')

  it('accepts the published vector and returns webhook-id', async () => {
    expect(
      await verifyWebhook('standard', { body, headers: headers(), secrets: [secret], now }),
    ).toEqual({ id, timestamp: now })
  })

  it('accepts the secret without the whsec_ prefix', async () => {
    await expect(
      verifyWebhook('standard', { body, headers: headers(), secrets: [secret.slice(6)], now }),
    ).resolves.toMatchObject({ id })
  })

  it('refuses a wrong secret', () =>
    rejects('standard', { body, headers: headers(), secrets: [other], now }, /no matching/))

  it('refuses a tampered body', () =>
    rejects(
      'standard',
      { body: '{"test": 2432232315}', headers: headers(), secrets: [secret], now },
      /no matching/,
    ))

  it('refuses a tampered id or timestamp', async () => {
    await rejects(
      'standard',
      { body, headers: headers({ 'webhook-id': 'msg_other' }), secrets: [secret], now },
      /no matching/,
    )
    await rejects(
      'standard',
      { body, headers: headers({ 'webhook-timestamp': String(ts + 1) }), secrets: [secret], now },
      /no matching/,
    )
  })

  it('refuses stale timestamps both ways, within tolerance passes', async () => {
    await rejects(
      'standard',
      { body, headers: headers(), secrets: [secret], now: now + 5 * MIN + 1000 },
      /stale timestamp.*old/,
    )
    await rejects(
      'standard',
      { body, headers: headers(), secrets: [secret], now: now - 5 * MIN - 1000 },
      /stale timestamp.*future/,
    )
    await expect(
      verifyWebhook('standard', {
        body,
        headers: headers(),
        secrets: [secret],
        now: now + 5 * MIN,
      }),
    ).resolves.toMatchObject({ id })
    await expect(
      verifyWebhook('standard', {
        body,
        headers: headers(),
        secrets: [secret],
        now: now - 5 * MIN,
      }),
    ).resolves.toMatchObject({ id })
    await rejects(
      'standard',
      { body, headers: headers(), secrets: [secret], now: now + 2 * MIN, toleranceMs: MIN },
      /stale/,
    )
  })

  it('refuses missing headers', async () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      await rejects(
        'standard',
        { body, headers: headers({ [name]: null }), secrets: [secret], now },
        new RegExp(`missing header ${name}`),
      )
    }
  })

  it('refuses malformed headers', async () => {
    await rejects(
      'standard',
      { body, headers: headers({ 'webhook-timestamp': 'yesterday' }), secrets: [secret], now },
      /malformed header webhook-timestamp/,
    )
    await rejects(
      'standard',
      {
        body,
        headers: headers({ 'webhook-signature': 'g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' }),
        secrets: [secret],
        now,
      },
      /malformed header webhook-signature/,
    )
    await rejects(
      'standard',
      { body, headers: headers({ 'webhook-signature': 'v1,***' }), secrets: [secret], now },
      /malformed header webhook-signature/,
    )
    await rejects(
      'standard',
      {
        body,
        headers: headers({ 'webhook-signature': 'v1a,' + sig.slice(3) }),
        secrets: [secret],
        now,
      },
      /malformed/,
    )
  })

  it('rotates keys: old and new secret, either signature, several signatures in one header', async () => {
    const signedByOther = (await signStandard({ id, timestamp: ts, body, secret: other }))[
      'webhook-signature'
    ]
    for (const s of [sig, signedByOther, `${signedByOther} ${sig}`, `v1a,abc ${sig}`]) {
      await expect(
        verifyWebhook('standard', {
          body,
          headers: headers({ 'webhook-signature': s }),
          secrets: [other, secret],
          now,
        }),
      ).resolves.toMatchObject({ id })
    }
    await rejects(
      'standard',
      { body, headers: headers({ 'webhook-signature': signedByOther }), secrets: [secret], now },
      /no matching/,
    )
  })

  it('signStandard reproduces the vector and round-trips', async () => {
    expect(await signStandard({ id, timestamp: ts, body, secret })).toEqual({
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': sig,
    })
    const t = Math.floor(Date.now() / 1000)
    const signed = await signStandard({ id: 'evt_1', timestamp: t, body: 'héllo ✓', secret: other })
    await expect(
      verifyWebhook('standard', {
        body: 'héllo ✓',
        headers: new Headers(signed),
        secrets: [other],
        now: Date.now(),
      }),
    ).resolves.toEqual({ id: 'evt_1', timestamp: t * 1000 })
  })

  it("accepts Svix's header names (svix-id, svix-timestamp, svix-signature) for the same signature", async () => {
    const svix = new Headers({ 'svix-id': id, 'svix-timestamp': String(ts), 'svix-signature': sig })
    expect(
      await verifyWebhook('standard', { body, headers: svix, secrets: [secret], now }),
    ).toEqual({ id, timestamp: now })
    svix.delete('svix-id')
    await rejects(
      'standard',
      { body, headers: svix, secrets: [secret], now },
      /missing header svix-id/,
    )
    await rejects(
      'standard',
      {
        body,
        headers: new Headers({
          'svix-id': 'msg_other',
          'svix-timestamp': String(ts),
          'svix-signature': sig,
        }),
        secrets: [secret],
        now,
      },
      /no matching v1 signature in svix-signature/,
    )
    // One family per request: webhook-* headers, when any is there, are the ones read.
    await rejects(
      'standard',
      {
        body,
        headers: new Headers({
          'webhook-id': id,
          'svix-timestamp': String(ts),
          'svix-signature': sig,
        }),
        secrets: [secret],
        now,
      },
      /missing header webhook-timestamp/,
    )
  })

  it('refuses a secret that is not base64 as a configuration error', async () => {
    const err = await signStandard({ id, timestamp: ts, body, secret: 'whsec_not base64!' }).catch(
      (e: unknown) => e,
    )
    expect((err as TidingsError).code).toBe('INVALID_OPTIONS')
    expect((err as TidingsError).message).not.toContain('not base64!')
  })
})

describe('verifyWebhook github', () => {
  // The example of GitHub's "Validating webhook deliveries" docs.
  const secret = "It's a Secret to Everybody"
  const body = 'Hello, World!'
  const sig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'
  const headers = (over: Record<string, string | null> = {}) => {
    const h = new Headers({
      'X-Hub-Signature-256': sig,
      'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    })
    for (const [k, v] of Object.entries(over)) v === null ? h.delete(k) : h.set(k, v)
    return h
  }

  it('accepts the published vector and returns the delivery id', async () => {
    expect(
      await verifyWebhook('github', { body, headers: headers(), secrets: [secret], now: 0 }),
    ).toEqual({ id: '72d3162e-cc78-11e3-81ab-4c9367dc0958' })
    expect(
      await verifyWebhook('github', {
        body,
        headers: headers({ 'X-GitHub-Delivery': null }),
        secrets: [secret],
        now: 0,
      }),
    ).toEqual({ id: undefined })
  })

  it('accepts upper-case hex and a rotated secret', async () => {
    await expect(
      verifyWebhook('github', {
        body,
        headers: headers({ 'X-Hub-Signature-256': 'sha256=' + sig.slice(7).toUpperCase() }),
        secrets: ['new secret', secret],
        now: 0,
      }),
    ).resolves.toEqual({ id: '72d3162e-cc78-11e3-81ab-4c9367dc0958' })
  })

  it('refuses a wrong secret and a tampered body', async () => {
    await rejects(
      'github',
      { body, headers: headers(), secrets: ["It's a secret to everybody"], now: 0 },
      /no matching/,
    )
    await rejects(
      'github',
      { body: 'Hello, World?', headers: headers(), secrets: [secret], now: 0 },
      /no matching/,
    )
  })

  it('refuses missing and malformed headers', async () => {
    await rejects(
      'github',
      { body, headers: headers({ 'X-Hub-Signature-256': null }), secrets: [secret], now: 0 },
      /missing header x-hub-signature-256/,
    )
    for (const bad of [
      sig.slice(7),
      'sha1=' + sig.slice(7),
      sig.slice(0, -2),
      sig.slice(0, -1) + 'g',
    ]) {
      await rejects(
        'github',
        { body, headers: headers({ 'X-Hub-Signature-256': bad }), secrets: [secret], now: 0 },
        /malformed header x-hub-signature-256/,
      )
    }
  })
})

describe('verifyWebhook stripe', () => {
  // Stripe publishes no vector: the expected signature is computed here with node:crypto, independent of WebCrypto.
  const secret = 'whsec_test_secret'
  const t = 1_700_000_000
  const now = t * 1000
  const body = JSON.stringify({
    id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
    object: 'event',
    type: 'charge.succeeded',
  })
  const v1 = (payload: string, key = secret) =>
    createHmac('sha256', key).update(payload).digest('hex')
  const headers = (value: string) => new Headers({ 'Stripe-Signature': value })
  const good = `t=${t},v1=${v1(`${t}.${body}`)}`

  it('accepts a valid signature and returns the event id', async () => {
    expect(
      await verifyWebhook('stripe', { body, headers: headers(good), secrets: [secret], now }),
    ).toEqual({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', timestamp: now })
  })

  it('returns no id for a signed body that is not a JSON event', async () => {
    for (const b of ['not json', '[1]', '{"id":42}']) {
      const h = headers(`t=${t},v1=${v1(`${t}.${b}`)}`)
      expect(
        await verifyWebhook('stripe', { body: b, headers: h, secrets: [secret], now }),
      ).toEqual({ id: undefined, timestamp: now })
    }
  })

  it('refuses a wrong secret and a tampered body or timestamp', async () => {
    await rejects(
      'stripe',
      { body, headers: headers(good), secrets: ['whsec_other'], now },
      /no matching/,
    )
    await rejects(
      'stripe',
      {
        body: body.replace('succeeded', 'refunded'),
        headers: headers(good),
        secrets: [secret],
        now,
      },
      /no matching/,
    )
    await rejects(
      'stripe',
      { body, headers: headers(good.replace(`t=${t}`, `t=${t + 1}`)), secrets: [secret], now },
      /no matching/,
    )
  })

  it('refuses stale timestamps both ways', async () => {
    await rejects(
      'stripe',
      { body, headers: headers(good), secrets: [secret], now: now + 5 * MIN + 1 },
      /stale timestamp.*old/,
    )
    await rejects(
      'stripe',
      { body, headers: headers(good), secrets: [secret], now: now - 5 * MIN - 1 },
      /stale timestamp.*future/,
    )
    await expect(
      verifyWebhook('stripe', {
        body,
        headers: headers(good),
        secrets: [secret],
        now: now + 5 * MIN,
      }),
    ).resolves.toMatchObject({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy' })
  })

  it('accepts any of several v1 signatures (secret rotation), ignoring v0 and unknown fields', async () => {
    const oldSig = v1(`${t}.${body}`, 'whsec_old')
    const newSig = v1(`${t}.${body}`, 'whsec_new')
    const h = headers(`t=${t}, v1=${oldSig}, v1=${newSig}, v0=${'0'.repeat(64)}, x=1`)
    await expect(
      verifyWebhook('stripe', { body, headers: h, secrets: ['whsec_new'], now }),
    ).resolves.toMatchObject({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy' })
    await expect(
      verifyWebhook('stripe', { body, headers: h, secrets: ['whsec_old'], now }),
    ).resolves.toMatchObject({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy' })
    await expect(
      verifyWebhook('stripe', {
        body,
        headers: headers(`t=${t},v1=${newSig}`),
        secrets: ['whsec_old', 'whsec_new'],
        now,
      }),
    ).resolves.toMatchObject({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy' })
    await rejects('stripe', { body, headers: h, secrets: [secret], now }, /no matching/)
  })

  it('refuses missing and malformed headers', async () => {
    await rejects(
      'stripe',
      { body, headers: new Headers(), secrets: [secret], now },
      /missing header stripe-signature/,
    )
    await rejects(
      'stripe',
      { body, headers: headers(`v1=${v1(`${t}.${body}`)}`), secrets: [secret], now },
      /malformed header stripe-signature.*t=/,
    )
    await rejects(
      'stripe',
      { body, headers: headers(`t=${t},t=${t},v1=${v1(`${t}.${body}`)}`), secrets: [secret], now },
      /malformed header stripe-signature.*t=/,
    )
    await rejects(
      'stripe',
      { body, headers: headers(`t=soon,v1=${v1(`${t}.${body}`)}`), secrets: [secret], now },
      /malformed header stripe-signature/,
    )
    await rejects(
      'stripe',
      { body, headers: headers(`t=${t}`), secrets: [secret], now },
      /malformed header stripe-signature.*v1/,
    )
    await rejects(
      'stripe',
      { body, headers: headers(`t=${t},v1=xyz`), secrets: [secret], now },
      /malformed header stripe-signature.*v1/,
    )
  })
})

describe('verifyWebhook options', () => {
  it('refuses an empty secret list as a configuration error', async () => {
    const err = await verifyWebhook('github', {
      body: '',
      headers: new Headers(),
      secrets: [],
      now: 0,
    }).catch((e: unknown) => e)
    expect((err as TidingsError).code).toBe('INVALID_OPTIONS')
  })
})
