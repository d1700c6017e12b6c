import type { Host } from './host.js'
import type { MetricsRecorder } from './metrics.js'
import type { SubRecord } from './record.js'
import type { Recovery } from './recovery.js'
import type { Runner } from './runner.js'

/**
 * A subscription attached on this bus: how to make its runner, and the runner while this bus
 * holds the lease. `timer`: the lease renewal, or the wait for another bus's lease to lapse.
 *
 * @example
 * attached.set('mailer', { make, attempts: 5, countDeadRuntimes: true })
 */
export interface Attached {
  runner?: Runner
  make: (record: SubRecord, version: string, recovery?: Recovery) => Runner
  attempts: number
  countDeadRuntimes: boolean
  timer?: unknown
  acquiring?: Promise<void>
}

/**
 * What the parts of the subscriptions module share: the bus's host, the attached subscriptions,
 * whether it closed, and the stored record reader.
 *
 * @example
 * const core: SubscriptionsCore = { base, attached: new Map(), closed: false, leaseMs, expireAfter, metrics: new Map(), read }
 */
export interface SubscriptionsCore {
  base: Omit<Host, 'reclaim'>
  attached: Map<string, Attached>
  closed: boolean
  leaseMs: number
  expireAfter: number
  /** Per subscription name: what this bus saw of it since it started (see metrics.ts). */
  metrics: Map<string, MetricsRecorder>
  /** The stored record of a subscription and its version, or undefined. */
  read(name: string): Promise<{ record: SubRecord; version: string } | undefined>
}
