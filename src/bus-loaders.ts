import type { Clock } from './clock/clock.js'
import { idPrefix, type BusEvent } from './event.js'
import type { Log } from './log/log.js'
import type { Publisher } from './publish.js'
import type { Scheduler } from './schedule/schedule.js'
import { PREFIX } from './store/keys.js'
import type { Store } from './store/store.js'
import type { Subscriptions } from './subscriptions/subscriptions.js'
import type { Bus, BusOptions, ErrorContext } from './types.js'

const DAY = 86_400_000

/** What the lazily loaded parts of a bus (durable subscriptions, schedules) share with it. */
export interface LazyParts {
  store: Store
  clock: Clock
  log: Log
  publisher: Publisher
  onError: (error: unknown, context: ErrorContext) => void
  /** Marks a state change (the manual clock's progress, and idle()). */
  bump: () => void
  publish: (type: string, data: unknown, publishOptions: object) => Promise<unknown>
  /** An event as handlers see it: upcast to its type's current version. */
  view: (event: BusEvent) => BusEvent
  /** Settles once the versions code has loaded (drafts wait for it). */
  loaded: Promise<void> | undefined
}

/**
 * Loads durable subscriptions: apps that only publish and listen never ship them.
 *
 * @example
 * const subscriptions = await loadSubscriptions(parts, { subscriptions: { lease: 30_000 } })
 */
export function loadSubscriptions(parts: LazyParts, options: BusOptions): Promise<Subscriptions> {
  const { store, clock, log, onError, bump, publish, view } = parts
  return log.track(import('./subscriptions/subscriptions.js')).then((module) =>
    module.createSubscriptions(
      {
        store,
        clock,
        log,
        owner: idPrefix(clock.now()),
        onError,
        activity: bump,
        instrumentation: options.instrumentation,
        view,
        publish,
        pin: log.pin,
        unpin: log.unpin,
        ledger: {
          window: options.dedupe?.window ?? DAY,
          max: options.subscriptions?.ledger ?? 10_000,
        },
      },
      {
        leaseMs: options.subscriptions?.lease ?? 30_000,
        expireAfter: options.subscriptions?.expireAfter ?? 7 * DAY,
      },
    ),
  )
}

/**
 * Loads schedules: when used, or at start-up when the store holds some.
 *
 * @example
 * const scheduler = await loadScheduler(parts)
 */
export function loadScheduler(parts: LazyParts): Promise<Scheduler> {
  const { store, clock, log, publisher, publish, loaded } = parts
  return log.track(
    import('./schedule/schedule.js').then((module) =>
      module.createScheduler({
        store,
        clock,
        log,
        draft: async (type, data, id) => {
          await loaded
          return publisher.prepare(type, data, { id })
        },
        publish,
      }),
    ),
  )
}

/**
 * Loads schedules at start-up when the store holds some: their catch-up is start-up work.
 * A failure surfaces through publish and idle, not as an unhandled rejection.
 *
 * @example
 * loadStoredSchedules(log, store, () => (scheduling ??= loadScheduler(parts)))
 */
export function loadStoredSchedules(
  log: Log,
  store: Store,
  scheduler: () => Promise<unknown>,
): void {
  void log
    .track(
      log.ready.then(async () => {
        if ((await store.list({ prefix: PREFIX.schedules, limit: 1 })).length) await scheduler()
      }),
    )
    .catch(() => {})
}

/**
 * The bus's members whose code loads on first use: subscriptions and their admin, schedules.
 *
 * @example
 * const bus = { ...lazyMembers(manager, scheduler), publish, on }
 */
export function lazyMembers(
  manager: () => Promise<Subscriptions>,
  scheduler: () => Promise<Scheduler>,
): Pick<
  Bus,
  | 'subscribe'
  | 'subscriptions'
  | 'deleteSubscription'
  | 'replay'
  | 'stats'
  | 'deadLetters'
  | 'schedule'
  | 'schedules'
  | 'unschedule'
  | 'runSchedule'
> {
  const lazy = <
    K extends 'subscribe' | 'subscriptions' | 'deleteSubscription' | 'replay' | 'stats',
  >(
    method: K,
  ) =>
    (async (...args: unknown[]) =>
      ((await manager())[method] as (...args: unknown[]) => unknown)(...args)) as never
  return {
    subscribe: lazy('subscribe'),
    subscriptions: lazy('subscriptions'),
    deleteSubscription: lazy('deleteSubscription'),
    replay: lazy('replay'),
    stats: lazy('stats'),
    deadLetters: {
      list: (listOptions) => manager().then((loaded) => loaded.deadLetters.list(listOptions)),
      redrive: (ids) => manager().then((loaded) => loaded.deadLetters.redrive(ids)),
      discard: (ids) => manager().then((loaded) => loaded.deadLetters.discard(ids)),
    },
    schedule: async (name, spec) => (await scheduler()).schedule(name, spec as never),
    schedules: async () => (await scheduler()).schedules(),
    unschedule: async (name) => (await scheduler()).unschedule(name),
    runSchedule: async (name, runOptions) => (await scheduler()).run(name, runOptions) as never,
  }
}
