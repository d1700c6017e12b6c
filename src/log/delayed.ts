import type { Clock } from '../clock/clock.js'
import type { Draft, Pending } from './log.js'
import { seqKey, type Store } from '../store/store.js'

/** Delayed events, by due time then id (the log writes them there too). */
export const DELAYED = 'd/'
/** After a due batch failed to commit, the next try. */
const RETRY_MS = 1000

/**
 * Delayed events: held aside under `d/<due>/<id>` and appended when due, in one commit that also
 * deletes them from the list. One timer for the earliest, and the store's wake-up where it has one.
 */
export const createDelayed = ({
  store,
  clock,
  enqueue,
  track,
}: {
  store: Store
  clock: Clock
  enqueue(p: Pending): Promise<unknown>
  track<T>(p: Promise<T>): Promise<T>
}) => {
  let due = Infinity
  let timer: unknown
  let stopped = false
  const arm = (at: number) => {
    if (at >= due || stopped) return
    due = at
    clock.clearTimer(timer)
    timer = clock.setTimer(at, () => void track(fire()).catch(() => {}))
    void store.setWakeup?.(at)
  }
  const next = async () => {
    const [first] = await store.list({ prefix: DELAYED, limit: 1 })
    if (first) arm(Number(first.key.slice(DELAYED.length, DELAYED.length + 15)))
  }
  const fire = async () => {
    due = Infinity
    const list = () => store.list({ start: DELAYED, end: seqKey(DELAYED, clock.now() + 1) })
    let entries = await list()
    if (entries.length) {
      const p: Pending = {
        drafts: undefined,
        wait: undefined,
        extra: undefined,
        single: false,
        due: true,
        resolve: () => {},
        reject: () => {},
      }
      const build = () => {
        p.drafts = entries.map((e) => ({ ...(e.value as Draft) }))
        p.extra = {
          checks: entries.map((e) => ({ key: e.key, version: e.version })),
          mutations: entries.map((e) => ({ type: 'delete' as const, key: e.key })),
        }
      }
      // Another bus may have appended some first: keep only what is still on the list.
      p.recheck = async () => {
        entries = await list()
        build()
        return entries.length > 0
      }
      build()
      try {
        await enqueue(p)
      } catch (e) {
        // The commit failed (storage error, quota): they are still on the list, so try again
        // shortly rather than leave them there until something else arms the timer.
        arm(clock.now() + RETRY_MS)
        throw e
      }
    }
    await next()
  }
  return {
    arm,
    next,
    async cancel(id: string): Promise<boolean> {
      const e = (await store.list({ prefix: DELAYED })).find((x) => x.key.endsWith(`/${id}`))
      return (
        !!e &&
        (
          await store.commit({
            checks: [{ key: e.key, version: e.version }],
            mutations: [{ type: 'delete', key: e.key }],
          })
        ).ok
      )
    },
    stop() {
      stopped = true
      clock.clearTimer(timer)
    },
  }
}

export type Delayed = ReturnType<typeof createDelayed>
