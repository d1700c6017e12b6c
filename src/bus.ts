import { cancel } from './bus-cancel.js'
import { optionsOf, setLimits } from './check.js'
import { realClock } from './clock/clock.js'
import { TidingsError } from './errors.js'
import { createActivity, waitIdle } from './bus-activity.js'
import {
  lazyMembers,
  loadScheduler,
  loadStoredSchedules,
  loadSubscriptions,
} from './bus-loaders.js'
import { waitFor } from './bus-wait.js'
import type { EventMap, OpenEvents } from './event.js'
import { createListeners } from './listeners.js'
import { createLog } from './log/log.js'
import { createPublisher } from './publish.js'
import { createVersioning } from './versioning.js'
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
  const versioning = createVersioning(options.versions)
  const view = versioning.view
  // The outbox stages with these: before the versions code has loaded, the drain's publish checks the version.
  const limits = {
    source: options.source ?? 'tidings',
    maxBytes: options.limits?.maxEventBytes ?? 131_072,
    version: (type: string, version: unknown) => versioning.now()?.check(type, version),
  }
  const listeners = createListeners(onError, view)
  let closed = false
  // Aborted by close(): waits still pending reject with CLOSED and drop their timers.
  const closing = new AbortController()
  const store = options.store ?? memoryStore()
  // Every state change bumps this: the manual clock's "until nothing makes progress", and idle().
  const activity = createActivity()
  const bump = activity.bump
  let subscriptions: Subscriptions | undefined
  let loadingSubscriptions: Promise<Subscriptions> | undefined
  const log = createLog({
    store,
    clock,
    dedupe: { window: options.dedupe?.window ?? DAY, max: options.dedupe?.max ?? 100_000 },
    retention: { events: options.retention?.events ?? 10_000, age: options.retention?.age ?? DAY },
    expireAfter: options.subscriptions?.expireAfter ?? 7 * DAY,
    before: versioning.loaded,
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
    versioning,
  )
  // Traced, each publish runs inside the wrapper the instrumentation brings (so an untraced bus
  // ships none), called synchronously: the caller's active span is the parent. Untraced, the publisher's own.
  const wrapPublish = options.instrumentation?.wrapPublish
  const append = (inputs: () => readonly PublishInput[], single: boolean): Promise<any> =>
    wrapPublish
      ? wrapPublish(inputs, (traced) => publisher.append(traced, single))
      : publisher.append(inputs, single)
  const publish = (type: string, data: unknown, publishOptions: object) =>
    bus.publish(type as never, data as never, publishOptions)
  const parts = {
    store,
    clock,
    log,
    publisher,
    onError,
    bump,
    publish,
    view,
    loaded: versioning.loaded,
  }
  // Durable subscriptions load on first use: apps that only publish and listen never ship them.
  const manager = () =>
    (loadingSubscriptions ??= loadSubscriptions(parts, options).then(
      (loaded) => (subscriptions = loaded),
    ))
  // Schedules load when used, or at start-up when the store holds some (their catch-up is start-up work).
  let scheduling: Promise<Scheduler> | undefined
  const scheduler = () => (scheduling ??= loadScheduler(parts))
  loadStoredSchedules(log, store, scheduler)
  const detach = clock.attach?.(async () => {
    await log.idle()
    await Promise.all([...log.working(), ...(subscriptions?.working() ?? [])])
    return activity.count()
  })
  // Start-up failures surface through publish and idle, not as an unhandled rejection.
  log.ready.catch(() => {})

  const bus: Bus = {
    publish: wrapPublish
      ? (type: string, data: unknown, publishOptions?: PublishOptions) =>
          append(() => [{ ...optionsOf(publishOptions, 'publish'), type, data }], true)
      : publisher.appendOne,
    publishMany: (inputs) => append(() => inputs, false),

    cancel: (id) => cancel(log, id),

    on: listeners.on as Bus['on'],

    // Reading is async anyway: its code loads on first use, outside the entry chunk.
    read: async (readOptions) =>
      (await import('./log/read.js')).read(log, readOptions, view) as never,

    ...lazyMembers(manager, scheduler),

    waitFor: (pattern, waitOptions) =>
      waitFor(
        { listeners, log, clock, view, closing: closing.signal },
        pattern,
        waitOptions,
      ) as never,

    idle: () => waitIdle(log, () => subscriptions?.busy(), activity.next),

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
