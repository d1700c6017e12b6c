import type { Bus } from '../../src/index.js'
import { mergeStats, type ShardStats } from './_stats.js'
import type { Shards, Stub } from './_stubs.js'

/** @internal The admin half of the client. @example const { stats } = shardAdmin(shards) */
export type Admin = Pick<
  Bus,
  | 'cancel'
  | 'subscriptions'
  | 'deleteSubscription'
  | 'replay'
  | 'stats'
  | 'deadLetters'
  | 'schedule'
  | 'schedules'
  | 'unschedule'
  | 'runSchedule'
>

/**
 * @internal The read-and-admin methods over the shards: subscriptions and stats merged by name,
 * dead letters with their shard in their id (`<shard>:<subscription>/<seq>`), schedules on the
 * home shard (shard 0).
 *
 * @example
 * const admin = shardAdmin(shardStubs(env.BUS, 4, 'tidings'))
 * await admin.deadLetters.redrive(['2:mailer/17'])
 */
export const shardAdmin = ({ shards, stubs, all, call }: Shards): Admin => {
  // Dead letter ids carry their shard: `<shard>:<subscription>/<seq>`.
  const byShard = (ids: readonly string[] | undefined): (string[] | undefined)[] => {
    if (ids === undefined) return stubs.map(() => undefined)
    const out = stubs.map((): string[] => [])
    for (const id of ids) {
      const m = /^(\d+):(.+)$/.exec(String(id))
      if (m && Number(m[1]) < shards) out[Number(m[1])]!.push(m[2]!)
    }
    return out
  }
  const sum = async (f: (s: Stub, i: number) => Promise<number>) =>
    (await all(f)).reduce((a, b) => a + b, 0)

  return {
    cancel: async (id) =>
      (await all((s) => call(s, 'cancel', [id]) as Promise<boolean>)).some(Boolean),

    async subscriptions() {
      const merged = new Map<
        string,
        { name: string; pattern: string; attached: boolean; lag: number }
      >()
      for (const list of await all(
        (s) =>
          call(s, 'subscriptions', []) as Promise<
            { name: string; pattern: string; attached: boolean; lag: number }[]
          >,
      )) {
        for (const r of list) {
          const m = merged.get(r.name)
          if (!m) merged.set(r.name, { ...r })
          else {
            m.lag += r.lag
            m.attached ||= r.attached
          }
        }
      }
      return [...merged.values()]
    },
    deleteSubscription: async (n) =>
      (await all((s) => call(s, 'deleteSubscription', [n]) as Promise<boolean>)).some(Boolean),
    replay: async (n, point) => {
      await all((s) => call(s, 'replay', [n, point]))
    },
    stats: async () => mergeStats(await all((s) => call(s, 'stats', []) as Promise<ShardStats[]>)),
    deadLetters: {
      list: async (o) =>
        (
          await all(async (s, i) =>
            ((await call(s, 'deadLetters.list', [o ?? {}])) as { id: string }[]).map((d) => ({
              ...d,
              id: `${i}:${d.id}`,
            })),
          )
        ).flat() as never,
      redrive: (ids) => {
        const per = byShard(ids)
        return sum((s, i) =>
          per[i] && !per[i]!.length ? Promise.resolve(0) : call(s, 'deadLetters.redrive', [per[i]]),
        )
      },
      discard: (ids) => {
        const per = byShard(ids)
        return sum((s, i) =>
          per[i] && !per[i]!.length ? Promise.resolve(0) : call(s, 'deadLetters.discard', [per[i]]),
        )
      },
    },

    schedule: (n, spec) => call(stubs[0]!, 'schedule', [n, spec]),
    schedules: () => call(stubs[0]!, 'schedules', []),
    unschedule: (n) => call(stubs[0]!, 'unschedule', [n]),
    runSchedule: (n, o) => call(stubs[0]!, 'runSchedule', [n, o ?? {}]),
  }
}
