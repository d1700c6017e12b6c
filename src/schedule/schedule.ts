import type { Clock } from '../clock/clock.js'
import type { Log } from '../log/log.js'
import type { Draft } from '../log/pending.js'
import { createHeap } from './heap.js'
import type { Store, StoreEntry } from '../store/store.js'
import { PREFIX } from '../store/keys.js'
import { tickId } from './tick-id.js'
import type { ScheduleInfo, ScheduleSpec } from '../types.js'
import {
  checkScheduleName as checkName,
  normalizeSchedule,
  scheduleInfo,
  type KnownSchedule,
  type ScheduleRecord,
  type Tick,
} from './spec.js'
import { createTicks, missedTicks } from './ticks.js'
import { deleteSchedule, reloadSchedule, saveSchedule } from './save.js'
import { fireTicks } from './fire.js'
import { fireDue as fireDueTicks } from './due.js'
import { runScheduleNow } from './run-now.js'

export type { ScheduleInfo, ScheduleSpec } from '../types.js'

const RETRY_MS = 1000

export { CATCH_UP_MAX } from './ticks.js'

/** What the bus lends the scheduler. */
export interface ScheduleHost {
  store: Store
  clock: Clock
  log: Log
  /** An envelope checked like a publish (topic, schema, size), with this id. */
  draft(type: string, data: unknown, id: string): Draft | Promise<Draft>
  publish(type: string, data: unknown, options: { id: string }): Promise<unknown>
}

/** The schedules of one bus, as the bus uses them (see `Bus` for each). */
export interface Scheduler {
  schedule(name: string, spec: ScheduleSpec): Promise<void>
  unschedule(name: string): Promise<boolean>
  schedules(): ScheduleInfo[]
  run(name: string, options?: { id?: string }): Promise<unknown>
  stop(): void
}

/**
 * The scheduler of one bus: schedules live in the store, a heap orders their next ticks, and one
 * clock timer waits for the earliest. Each tick publishes `schedule:<name>:<tickMs>` and writes
 * `lastFiredAt` in the same commit, checked against the record's version, so two runtimes firing
 * one tick produce one event.
 *
 * @example
 * const scheduler = await createScheduler({ store, clock, log, draft, publish })
 * await scheduler.schedule('nightly', { cron: '0 3 * * *', type: 'report.due' })
 */
export const createScheduler = async (host: ScheduleHost): Promise<Scheduler> => {
  const { store, clock, log } = host
  // croner loads here, in this lazily loaded module's own chunk.
  const { Cron } = await import('croner')
  const records = new Map<string, KnownSchedule>()
  const scheduleTicks = createTicks(Cron)
  // [tickMs, name], soonest first; an entry whose tick no longer matches its record is stale.
  const heap = createHeap<string>()
  let timer: unknown
  let armed = Infinity
  let stopped = false

  const arm = () => {
    for (let top; (top = heap.peek()) && records.get(top[1])?.next !== top[0];) heap.pop()
    const at = heap.peek()?.[0] ?? Infinity
    if (at === armed || stopped) return
    clock.clearTimer(timer)
    armed = at
    timer =
      at < Infinity
        ? clock.setTimer(at, () => {
            armed = Infinity
            void log.track(fireDue()).catch(() => {})
          })
        : undefined
  }

  const plan = (name: string, after: number) => {
    const r = records.get(name)
    if (!r) return
    r.next = r.rec.done ? undefined : scheduleTicks.nextTick(name, r.rec.spec, after)
    if (r.next !== undefined) heap.push(r.next, name)
  }

  const fire = (ticks: Tick[]) => fireTicks({ log, draft: host.draft, records, reload }, ticks)
  const reload = (name: string) => reloadSchedule(store, records, name)

  const fireDue = () => fireDueTicks({ store, clock, log, heap, records, plan, fire, retry, arm })

  let retrying: unknown
  const retry = () => {
    if (retrying !== undefined || stopped) return
    retrying = clock.setTimer(clock.now() + RETRY_MS, () => {
      retrying = undefined
      void log
        .track(
          store
            .list({ prefix: PREFIX.schedules })
            .then(catchUp)
            .catch(() => retry())
            .finally(arm),
        )
        .catch(() => {})
    })
  }

  /** Start-up: what was missed while no bus ran, by each schedule's catch-up policy. */
  const catchUp = async (entries: StoreEntry[]) => {
    const now = clock.now()
    const ticks: Tick[] = []
    for (const e of entries) {
      const rec = e.value as ScheduleRecord
      records.set(rec.name, { rec, version: e.version, next: undefined })
      ticks.push(...missedTicks(scheduleTicks, rec, now))
      plan(rec.name, now)
    }
    await fire(ticks)
    arm()
  }

  // Schedules another bus adds or changes: pick them up.
  const unwatch = store.watch?.(PREFIX.schedules, (keys) => {
    for (const k of keys) {
      const name = k.slice(2)
      void log
        .track(
          reload(name).then(() => {
            plan(name, clock.now())
            arm()
          }),
        )
        .catch(() => {})
    }
  })

  await catchUp(await store.list({ prefix: PREFIX.schedules }))

  return {
    async schedule(name: string, spec: ScheduleSpec): Promise<void> {
      const norm = normalizeSchedule(name, spec, scheduleTicks.checkCron)
      // The payload is checked like a publish's (schema, size) before anything is stored.
      await host.draft(norm.type, norm.data, tickId(name, 0))
      const stored = await saveSchedule(store, clock, name, norm)
      if (!stored) return
      records.set(name, stored)
      plan(name, clock.now())
      arm()
    },
    async unschedule(name: string): Promise<boolean> {
      const removed = await deleteSchedule(store, checkName(name))
      if (removed === undefined) return false
      records.delete(name)
      arm()
      return removed
    },
    schedules: (): ScheduleInfo[] =>
      [...records.values()]
        .filter((r) => !r.rec.done)
        .map(scheduleInfo)
        .sort((a, b) => (a.nextAt ?? Infinity) - (b.nextAt ?? Infinity)),
    run: (name: string, options?: { id?: string }): Promise<unknown> =>
      runScheduleNow(host, records, name, options),
    stop() {
      stopped = true
      unwatch?.()
      clock.clearTimer(timer)
      clock.clearTimer(retrying)
    },
  }
}
