import { fail } from '../../src/internal.js'
import type { BusObject, Call } from './object.js'
import { unwrap, type Reply } from './_wire.js'

/**
 * The Durable Object namespace binding of a `BusObject` class (what `cloudflareBus` uses of it).
 *
 * @example
 * interface Env { BUS: DurableObjectNamespace<Bus> } // env.BUS is a BusNamespace
 */
export interface BusNamespace {
  idFromName(name: string): DurableObjectId
  idFromString(id: string): DurableObjectId
  get(id: DurableObjectId): unknown
}

/** @internal What the Worker sees of the object: its RPC methods. @example const stub = namespace.get(id) as unknown as Stub */
export type Stub = Pick<
  BusObject,
  'append' | 'call' | 'claim' | 'settle' | 'lost' | 'fireCron' | 'fetch'
>

/** @internal The shards of one bus as the client reaches them: a stub each, and the RPC helpers over them. @example const { stubs, all } = shardStubs(env.BUS, 4, 'tidings') */
export interface Shards {
  /** How many there are. */
  shards: number
  /** The bus's name: objects are named `<name>:<shard>`. */
  name: string
  stubs: Stub[]
  /** Calls every shard at once; results in shard order. */
  all<T>(f: (s: Stub, i: number) => Promise<T>): Promise<T[]>
  /** One read or admin method of one shard, its reply unwrapped (a coded error is rethrown). */
  call(s: Stub, method: Call, args: unknown[]): Promise<never>
}

/**
 * @internal The stubs of a bus's shards, `<name>:0` … `<name>:<shards - 1>`.
 *
 * @example
 * const { stubs, call } = shardStubs(env.BUS, 4, 'tidings')
 * await call(stubs[0]!, 'schedules', [])
 */
export const shardStubs = (namespace: BusNamespace, shards: number, name: string): Shards => {
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024)
    fail('INVALID_OPTIONS', `shards must be an integer in 1..1024, got ${shards}`)
  // One stub per shard: calls through one stub arrive in the order they were made.
  const stubs = Array.from(
    { length: shards },
    (_, i) => namespace.get(namespace.idFromName(`${name}:${i}`)) as unknown as Stub,
  )
  const all = <T>(f: (s: Stub, i: number) => Promise<T>) => Promise.all(stubs.map(f))
  const call = async (s: Stub, method: Call, args: unknown[]) =>
    unwrap((await s.call(method, args)) as Reply<unknown>) as never
  return { shards, name, stubs, all, call }
}
