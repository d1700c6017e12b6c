import { env } from 'cloudflare:test'
import { expect, it } from 'vitest'

it('runs inside workerd with a SQLite Durable Object', async () => {
  const stub = (env as any).SMOKE.get((env as any).SMOKE.idFromName('a'))
  expect(await stub.add(2)).toBe(2)
  expect(await stub.add(3)).toBe(5)
})
