import { env } from 'cloudflare:test'
import { cloudflareBus, type CloudflareBus } from '../../adapters/cloudflare/index.js'
import type { Env, TestBus } from './worker.js'
import { subscriptions } from './worker.js'

export const testEnv = env as unknown as Env
let n = 0
/** A fresh name per test: vitest-pool-workers shares storage across the tests of a file. */
export const fresh = (what = 'bus') => `${what}-${Date.now().toString(36)}-${++n}`

/** A client over fresh objects. */
export const freshBus = (shards = 3): CloudflareBus & { name: string } => {
  const name = fresh()
  return Object.assign(
    cloudflareBus(testEnv.BUS, { shards, name, subscriptions, deadLetterQueue: 'tidings-dlq' }),
    { name },
  )
}

/** The stub of one shard of a bus made by `freshBus`. */
export const shardStub = (name: string, shard: number): DurableObjectStub<TestBus> =>
  testEnv.BUS.get(testEnv.BUS.idFromName(`${name}:${shard}`))

/** Polls until `f` returns something truthy (real time: Queue deliveries and retries take a moment). */
export const eventually = async <T>(
  f: () => Promise<T>,
  what: string,
  ms = 8000,
): Promise<NonNullable<T>> => {
  const until = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v as NonNullable<T>
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
