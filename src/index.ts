export { createBus } from './bus.js'
export type {
  Bus,
  BusOptions,
  DelayOptions,
  DelayedResult,
  ErrorContext,
  ListenOptions,
  Matching,
  PublishInput,
  PublishOptions,
  PublishResult,
  ReadOptions,
  WaitOptions,
} from './types.js'
export type {
  BatchContext,
  BatchOptions,
  BatchSubscribeOptions,
  DeadLetter,
  HandlerContext,
  RetryOptions,
  SubscribeOptions,
  Subscription,
} from './types.js'
export { instrument } from './instrument.js'
export type {
  HandleHook,
  HandleSpan,
  Instrumentation,
  InstrumentationHooks,
  PublishHook,
  PublishSpan,
  PublishWrapper,
} from './instrumentation.js'
export type {
  DurationPercentiles,
  SubscriptionMetrics,
  SubscriptionStats,
} from './subscriptions/metrics.js'
export type { ScheduleInfo, ScheduleSpec } from './types.js'
export { memoryStore } from './store/memory.js'
export { realClock } from './clock/clock.js'
export type { Clock } from './clock/clock.js'
export { toCloudEvent, fromCloudEvent } from './cloudevent.js'
export type { CloudEvent, IncomingEvent } from './cloudevent.js'
export { TidingsError, NonRetriableError, RetryAfterError } from './errors.js'
export type { ErrorCode } from './errors.js'
export type {
  BusEvent,
  EventMap,
  EventOf,
  OpenEvents,
  Payload,
  PayloadAt,
  StoredEventOf,
  Versioned,
  VersionsOption,
} from './event.js'
export type { VersionSpec } from './versions.js'
export type { Filter, FilterRule, EventPredicate } from './filter/filter.js'
export type { MatchingTopics } from './topic/topic.js'
export type { StandardSchemaV1 } from './standard-schema.js'
export type {
  Store,
  StoreEntry,
  ListOptions,
  Mutation,
  Check,
  Commit,
  CommitResult,
} from './store/store.js'
