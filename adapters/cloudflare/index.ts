export { BusObject, MAX_EVENT_BYTES } from './object.js'
export type { BusObjectOptions } from './object.js'
export { cloudflareBus } from './client.js'
export type { BusNamespace, CloudflareBus, CloudflareBusOptions } from './client.js'
export { defineSubscriptions } from './subscriptions.js'
export type {
  AnyQueueSubscription,
  BatchQueueSubscription,
  EdgeBatchContext,
  EdgeHandlerContext,
  QueueSubscription,
  Subscriptions,
  TypedQueueSubscription,
} from './subscriptions.js'
export { durableObjectStore } from './store.js'
export { alarmClock } from './clock.js'
export type { AlarmClock } from './clock.js'
export { r2Event, isR2Notification } from './r2.js'
export type { R2Notification } from './r2.js'
