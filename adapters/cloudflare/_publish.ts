import { fail, encodeCursor, idPrefix, ownId, type Instrumentation } from '../../src/internal.js'
import type { Bus, PublishInput, PublishOptions } from '../../src/index.js'
import type { AppendItem } from './object.js'
import { shardOf } from './_shard.js'
import type { Shards } from './_stubs.js'
import { fromWire, unwrap, type Reply } from './_wire.js'

/** @internal The publishing half of the client. @example const { publish } = shardPublisher(shards) */
export type Publisher = Pick<Bus, 'publish' | 'publishMany' | 'idle' | 'close'>

/**
 * @internal Publishes over the shards: an event goes to the shard of its key, or of its id (given
 * here when the caller gives none, so a retry lands where the first did). Publishes made in one
 * tick go to each shard as one `append` RPC; `publishMany` is atomic per shard. With
 * `instrumentation`, each `publish` runs in its `wrapPublish` (a PRODUCER span with `otel()`).
 *
 * @example
 * const { publish } = shardPublisher(shardStubs(env.BUS, 4, 'tidings'))
 * await publish('order.placed', { total: 42 }, { key: 'o1' })
 */
export const shardPublisher = (
  { shards, stubs }: Shards,
  instrumentation?: Instrumentation,
): Publisher => {
  const prefix = idPrefix(Date.now())
  let counter = 0
  let closed = false
  const wrapPublish = instrumentation?.wrapPublish

  // A duplicate's seq is its shard's: give the cursor that reads it back (`read({ from, limit: 1 })`),
  // every other shard placed past its end, so the HTTP app can tell a retry from a taken id.
  const located = (shard: number, v: unknown): unknown => {
    const r = v as { duplicate?: boolean; seq?: number } | unknown[]
    if (Array.isArray(r)) return r.map((x) => located(shard, x))
    if (!r?.duplicate || r.seq === undefined) return r
    return {
      ...r,
      cursor: encodeCursor(stubs.map((_, i) => (i === shard ? r.seq! : Number.MAX_SAFE_INTEGER))),
    }
  }

  // Publishes waiting for this tick's RPC, per shard.
  const outgoing = new Map<
    number,
    { item: AppendItem; resolve(v: unknown): void; reject(e: unknown): void }[]
  >()
  const inflight = new Set<Promise<unknown>>()
  const flush = (shard: number) => {
    const batch = outgoing.get(shard)!
    outgoing.delete(shard)
    const p = stubs[shard]!.append(batch.map((b) => b.item)).then(
      (r) => {
        const results = unwrap(r as Reply<Reply<unknown>[]>)
        results.forEach((x, i) =>
          x.ok ? batch[i]!.resolve(located(shard, x.value)) : batch[i]!.reject(fromWire(x.error)),
        )
      },
      (e) => {
        for (const b of batch) b.reject(e)
      },
    )
    inflight.add(p)
    void p.finally(() => inflight.delete(p))
  }
  const send = (shard: number, item: AppendItem) =>
    new Promise<any>((resolve, reject) => {
      let q = outgoing.get(shard)
      if (!q) {
        outgoing.set(shard, (q = []))
        queueMicrotask(() => flush(shard))
      }
      q.push({ item, resolve, reject })
      if (q.length >= 10_000) flush(shard)
    })

  /** Gives an unkeyed event its id here, so its shard is known and a retry finds it. */
  const place = (input: PublishInput): [number, PublishInput] => {
    if (closed) fail('CLOSED', 'the bus is closed')
    if (typeof input !== 'object' || input === null)
      fail('INVALID_OPTIONS', 'an event is { type, data, ...options }')
    const o = input as PublishInput & PublishOptions
    if (o.key !== undefined && typeof o.key !== 'string')
      fail('INVALID_OPTIONS', `key ${JSON.stringify(o.key)} is not a string`)
    if (o.id !== undefined && typeof o.id !== 'string')
      fail('INVALID_OPTIONS', `id ${JSON.stringify(o.id)} is not a string`)
    const id = o.id ?? (o.key === undefined ? ownId(prefix, ++counter) : undefined)
    return [shardOf(o.key ?? id!, shards), id === o.id ? o : { ...o, id: id! }]
  }

  const idle = async () => {
    while (outgoing.size || inflight.size)
      await Promise.allSettled([...inflight, Promise.resolve()])
  }
  return {
    publish: ((type: string, data: unknown, o: PublishOptions = {}) => {
      const one = (read: () => readonly PublishInput[]) => {
        try {
          const [shard, input] = place(read()[0]!)
          return send(shard, input)
        } catch (e) {
          return Promise.reject(e)
        }
      }
      const read = () => [{ ...o, type, data } as PublishInput]
      return wrapPublish ? wrapPublish(read, one) : one(read)
    }) as Bus['publish'],

    async publishMany(inputs) {
      if (!Array.isArray(inputs) || !inputs.length)
        fail('INVALID_OPTIONS', 'publishMany takes a non-empty array')
      const groups = new Map<number, { at: number[]; many: PublishInput[] }>()
      inputs.forEach((input, at) => {
        const [shard, placed] = place(input)
        const g = groups.get(shard) ?? { at: [], many: [] }
        groups.set(shard, g)
        g.at.push(at)
        g.many.push(placed)
      })
      const out: unknown[] = []
      await Promise.all(
        [...groups].map(async ([shard, g]) => {
          const results = (await send(shard, { many: g.many })) as unknown[]
          g.at.forEach((at, i) => {
            out[at] = results[i]
          })
        }),
      )
      return out as never
    },

    idle,
    async close() {
      closed = true
      await idle()
    },
  }
}
