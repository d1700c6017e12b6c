/**
 * The adapter kit: the one core module adapters import besides `src/index.ts`. What an adapter
 * needs from the core's inside is here as functions (release a lease, read a cursor, build a tick
 * id, check an event as publish does, ...), never as record layouts, so the core can change how it
 * stores things without breaking an adapter. Not a public API: no semver promise to users.
 *
 * @example
 * import { releaseLease, tickId } from '../../src/internal.js'
 * await releaseLease(store, 'mailer')
 * await bus.runSchedule('nightly', { id: tickId('nightly', scheduledTime) })
 */
import { keys } from './store/keys.js'

// Errors, ids and cursors.
export { fail } from './errors.js'
export { decodeCursor, encodeCursor, idPrefix, ownId } from './event.js'

// Topics, patterns, filters.
export { checkTopic, patternSegments } from './topic/topic.js'
export { compilePattern, patternCovers } from './topic/pattern.js'
export { compileFilter } from './filter/filter.js'

// Payloads as stores and wires keep them.
export { fromTagged, toTagged, type Tagged } from './tagged.js'
export { prefixEnd } from './store/keys.js'

// The option and size check publish makes, and the envelope's fields.
export {
  checkEvent,
  ENVELOPE_OPTIONS,
  limitsOf,
  optionsOf,
  TEXT_OPTIONS,
  type EventLimits,
} from './check.js'
export { publishInputOf, type ReceivedInput } from './publish-input.js'

// Subscriptions: the name rule, the chained publish, and their records through functions.
export { checkSubscriptionName, SUBSCRIPTION_NAME } from './subscriptions/name.js'
export { checkBatch } from './subscriptions/arguments.js'
export { MAX_BATCH_SIZE } from './subscriptions/batch.js'
export { chainedOptions, childSpan } from './subscriptions/chained.js'
export {
  releaseAllLeases,
  releaseLease,
  subscriptionCursor,
  subscriptionExists,
  watchSubscription,
} from './subscriptions/records-access.js'
export { countDeadRuntimeAttempts, type DeadRuntimeAttempt } from './subscriptions/dead-runtimes.js'
export { leaveDeadRuntimesToHost } from './subscriptions/host-counted.js'

// The SQL layout the Durable Object and SQLite stores share.
export { sqlStore } from './store/sql.js'
export type {
  SqlChange,
  SqlDriver,
  SqlStatement,
  SqlStore,
  SqlStoreOptions,
  SqlValue,
} from './store/sql.js'

// Schedules.
export { parseTickId, tickId } from './schedule/tick-id.js'

/**
 * The store key under which the IndexedDB bridge named `bridge` keeps its receive cursor.
 *
 * @example
 * createReceiver({ ..., cursorKey: bridgeCursorKey('shop') })
 */
export const bridgeCursorKey = (bridge: string): string => keys.bridgeCursor(bridge)

// Metrics and instrumentation: the duration window, and the instrumentation with its publish wrapper.
export {
  DURATION_WINDOW,
  durationSamples,
  percentiles,
  reportDuration,
} from './subscriptions/metrics.js'
export type { DurationPercentiles, SubscriptionMetrics } from './subscriptions/metrics.js'
export { instrument } from './instrument.js'
export type {
  HandleSpan,
  Instrumentation,
  InstrumentationHooks,
  PublishSpan,
} from './instrumentation.js'
