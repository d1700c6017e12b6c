import { describeValue, optionsOf, setLimits } from './check.js'
import { realClock } from './clock/clock.js'
import { TidingsError } from './errors.js'
import { idPrefix, type BusEvent, type EventMap, type OpenEvents } from './event.js'
import { createListeners } from './listeners.js'
import { createLog } from './log/log.js'
import { PREFIX } from './store/keys.js'
import { tracePublishes } from './trace-publishes.js'
import { createPublisher } from './publish.js'
import type { Scheduler } from './schedule/schedule.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import { memoryStore } from './store/memory.js'
import type { Subscriptions } from './subscriptions/subscriptions.js'
import type { Bus, BusOptions, PublishInput, PublishOptions } from './types.js'

export type {
  Bus,
  BusOptions,
  DelayOptions,
  DelayedResult,
  ErrorContext,
  ListenOptions,
  Matching,
  PatternOf,
  PublishInput,
  PublishOptions,
  PublishResult,
  ReadOptions,
  WaitOptions,
} from './types.js'

const DAY = 86_400_000

/**
 * Creates a bus. Typed by an event map, or inferred from Standard Schema validators.
 *
 * @example
 * type Events = { 'order.placed': { id: string; total: number } }
 * const bus = createBus<Events>({ source: 'shop' })
 * const { id, seq } = await bus.publish('order.placed', { id: 'o1', total: 42 }, { key: 'o1' })
 */
export function createBus<S extends Record<string, StandardSchemaV1>>(
  options: BusOptions & { schemas: S },
): Bus<
  { [K in keyof S]: StandardSchemaV1.InferOutput<S[K]> },
  { [K in keyof S]: StandardSchemaV1.InferInput<S[K]> }
>
export function createBus<E extends EventMap = OpenEvents>(options?: BusOptions<E>): Bus<E>
export function createBus(options: BusOptions = {}): Bus {
  const clock = options.clock ?? realClock
  const onError = options.onError ?? ((error, context) => console.error('tidings:', error, context))
  const limits = {
    source: options.source ?? 'tidings',
    maxBytes: options.limits?.maxEventBytes ?? 131_072,
  }
  const listeners = createListeners(onError)
  let closed = false
  // Aborted by close(): waits still pending reject with CLOSED and drop their timers.
  const closing = new AbortController()
  const store = options.store ?? memoryStore()
  // Every state change bumps this: the manual clock's "until nothing makes progress", and idle().
  let activity = 0
  let activityWaiters: (() => void)[] = []
  const bump = () => {
    activity++
    for (const wake of activityWaiters.splice(0)) wake()
  }
  const nextActivity = () => new Promise<void>((resolve) => activityWaiters.push(resolve))
  let subscriptions: Subscriptions | undefined
  let loadingSubscriptions: Promise<Subscriptions> | undefined
  const log = createLog({
    store,
    clock,
    dedupe: { window: options.dedupe?.window ?? DAY, max: options.dedupe?.max ?? 100_000 },
    retention: { events: options.retention?.events ?? 10_000, age: options.retention?.age ?? DAY },
    expireAfter: options.subscriptions?.expireAfter ?? 7 * DAY,
    onAppend: (events) => {
      listeners.dispatch(events)
      subscriptions?.notify(events)
      bump()
    },
  })
  const publisher = createPublisher(
    clock,
    log,
    (options.schemas ?? {}) as Record<string, StandardSchemaV1 | undefined>,
    limits,
    () => closed,
  )
  // Traced, each publish runs inside the instrumentation's hook; untraced, straight to the log.
  const traceHook = options.instrumentation?.publish
  const append = (inputs: () => readonly PublishInput[], single: boolean): Promise<any> =>
    traceHook
      ? tracePublishes(traceHook, inputs, (traced) => publisher.append(traced, single))
      : publisher.append(inputs, single)
  const publish = (type: string, data: unknown, publishOptions: object) =>
    bus.publish(type as never, data as never, publishOptions)
  // Durable subscriptions load on first use: apps that only publish and listen never ship them.
  const manager = () =>
    (loadingSubscriptions ??= log.track(import('./subscriptions/subscriptions.js')).then(
      (module) =>
        (subscriptions = module.createSubscriptions(
          {
            store,
            clock,
            log,
            owner: idPrefix(clock.now()),
            onError,
            activity: bump,
            instrumentation: options.instrumentation,
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
        )),
    ))
  // Schedules load when used, or at start-up when the store holds some (their catch-up is start-up work).
  let scheduling: Promise<Scheduler> | undefined
  const scheduler = () =>
    (scheduling ??= log.track(
      import('./schedule/schedule.js').then((module) =>
        module.createScheduler({
          store,
          clock,
          log,
          draft: (type, data, id) => publisher.prepare(type, data, { id }),
          publish,
        }),
      ),
    ))
  void log
    .track(
      log.ready.then(async () => {
        if ((await store.list({ prefix: PREFIX.schedules, limit: 1 })).length) await scheduler()
      }),
    )
    .catch(() => {})
  const lazy = <
    K extends 'subscribe' | 'subscriptions' | 'deleteSubscription' | 'replay' | 'stats',
  >(
    method: K,
  ) =>
    (async (...args: unknown[]) =>
      ((await manager())[method] as (...args: unknown[]) => unknown)(...args)) as never
  const detach = clock.attach?.(async () => {
    await log.idle()
    await Promise.all([...log.working(), ...(subscriptions?.working() ?? [])])
    return activity
  })
  // Start-up failures surface through publish and idle, not as an unhandled rejection.
  log.ready.catch(() => {})

  const bus: Bus = {
    publish: (type: string, data: unknown, publishOptions?: PublishOptions) =>
      append(() => [{ ...optionsOf(publishOptions, 'publish'), type, data }], true),
    publishMany: (inputs) => append(() => inputs, false),

    cancel: (id) =>
      typeof id === 'string'
        ? log.cancel(id)
        : Promise.reject(
            new TidingsError(
              'INVALID_OPTIONS',
              `cancel takes an event id, got ${describeValue(id)}`,
            ),
          ),

    on: listeners.on as Bus['on'],

    // Reading is async anyway: its code loads on first use, outside the entry chunk.
    read: async (readOptions) => (await import('./log/read.js')).read(log, readOptions) as never,

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

    waitFor(pattern, waitOptions) {
      // Registered synchronously, so nothing published after the call is missed; the rest loads lazily.
      const early: BusEvent[] = []
      let seen: ((event: BusEvent) => void) | undefined
      let off
      try {
        off = listeners.add(pattern, (event) => {
          if (seen) seen(event)
          else early.push(event)
        })
      } catch (error) {
        return Promise.reject(error)
      }
      return log.track(import('./log/wait-for.js')).then((module) =>
        module.wait({
          log,
          clock,
          pattern,
          options: waitOptions as never,
          early,
          off,
          listen: (listener) => {
            seen = listener
          },
          closing: closing.signal,
        }),
      ) as never
    },

    schedule: async (name, spec) => (await scheduler()).schedule(name, spec as never),
    schedules: async () => (await scheduler()).schedules(),
    unschedule: async (name) => (await scheduler()).unschedule(name),
    runSchedule: async (name, runOptions) => (await scheduler()).run(name, runOptions) as never,

    async idle() {
      do {
        await log.idle()
        await Promise.all(log.working())
        while (subscriptions?.busy()) {
          await nextActivity()
          await log.idle()
        }
      } while (log.working().length)
    },

    async close(closeOptions) {
      // A grace period first (with a timeout): handlers finish, chained publishes included.
      await subscriptions?.drain(closeOptions?.timeout)
      closed = true
      closing.abort(new TidingsError('CLOSED', 'the bus is closed'))
      await log.idle().catch(() => {})
      await subscriptions?.close()
      void scheduling?.then((loaded) => loaded.stop())
      log.close()
      detach?.()
    },
  }
  setLimits(bus, limits)
  return bus
}
