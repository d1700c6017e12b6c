import type { Clock } from '../clock/clock.js'
import type { BusEvent } from '../event.js'
import type { Instrumentation } from '../instrumentation.js'
import type { Log } from '../log/log.js'
import type { Store } from '../store/store.js'

/**
 * What the bus lends the subscriptions module (and it its runners).
 *
 * @example
 * const subscriptions = createSubscriptions({ store, clock, log, owner, onError, activity, publish, pin, unpin, ledger }, limits)
 */
export interface Host {
  store: Store
  clock: Clock
  log: Log
  owner: string
  publish(type: string, data: unknown, options: object): Promise<unknown>
  onError(error: unknown, context: { event?: BusEvent; subscription?: string }): void
  /** Something changed: for the manual clock's "until nothing makes progress". */
  activity(): void
  /** Tells retention how far a subscription has got. */
  pin(name: string, cursor: number): void
  unpin(name: string): void
  reclaim(name: string): Promise<void>
  /** The event as handlers and filters see it: upcast to its type's current version (throws when an upcaster does). */
  view(event: BusEvent): BusEvent
  /** Bounds of each subscription's consumer ledger (the publish dedup window and size). */
  ledger: { window: number; max: number }
  /** Tracing hooks (createBus's `instrumentation`), if any. */
  instrumentation: Instrumentation | undefined
}
