import { fail, decodeCursor, encodeCursor } from '../../src/internal.js'
import type { Bus, ReadOptions, BusEvent } from '../../src/index.js'
import type { Shards } from './_stubs.js'

/**
 * @internal `read` over the shards: its cursors hold one position per shard, and a page merges the
 * shards' pages by event time.
 *
 * @example
 * const read = shardReader(shardStubs(env.BUS, 4, 'tidings'))
 * const { events, next } = await read({ pattern: 'order.*', limit: 50 })
 */
export const shardReader = ({ shards, stubs, all, call }: Shards): Bus['read'] =>
  async function read(o: ReadOptions = {}) {
    const { from, pattern, limit = 100, raw } = o
    // 'earliest' and 'latest' go to every shard as they are: each knows its own start and end.
    const named = from === 'earliest' || from === 'latest'
    const at = from === undefined || named ? stubs.map(() => 1) : decodeCursor(from)
    if (!at || at.length !== shards)
      fail('INVALID_CURSOR', `${JSON.stringify(from)} is not a cursor of this ${shards}-shard bus`)
    const pages = await all(
      (s, i) =>
        call(s, 'read', [
          {
            from: named ? from : encodeCursor([at![i]!]),
            limit,
            ...(pattern === undefined ? {} : { pattern }),
            ...(raw ? { raw } : {}),
          },
        ]) as Promise<{ events: BusEvent[]; next: string }>,
    )
    // Where each shard's page began: what a shard that gives none of its page stays at.
    if (named)
      pages.forEach((p, i) => {
        at![i] = p.events[0]?.seq ?? decodeCursor(p.next)![0]!
      })
    // Merge by time, taking each shard's events in seq order (a k-way merge, not a sort: a clock
    // that stepped back inside a shard must not put a later seq first and skip the one before it),
    // up to `limit`, and move each shard past what it gave.
    const heads = pages.map(() => 0)
    const merged: { e: BusEvent; shard: number }[] = []
    while (merged.length < limit) {
      let pick = -1
      pages.forEach((p, i) => {
        const e = p.events[heads[i]!]
        if (e && (pick < 0 || e.time < pages[pick]!.events[heads[pick]!]!.time)) pick = i
      })
      if (pick < 0) break
      merged.push({ e: pages[pick]!.events[heads[pick]!++]!, shard: pick })
    }
    const next = [...at!]
    const taken = pages.map(() => 0)
    const after: string[] = []
    for (const { e, shard } of merged) {
      next[shard] = e.seq + 1
      taken[shard]!++
      if (o.cursors) after.push(encodeCursor(next))
    }
    pages.forEach((p, shard) => {
      if (taken[shard] === p.events.length) next[shard] = decodeCursor(p.next)![0]!
    })
    return {
      events: merged.map((m) => m.e),
      next: encodeCursor(next),
      ...(o.cursors ? { cursors: after } : {}),
    } as never
  }
