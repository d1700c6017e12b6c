import { withSamples } from './_stats.js'
import type { Bus } from '../../src/index.js'
import { check } from './_wire.js'

// What `call` exposes: the read and admin half of the Bus API. Publishing has its own method.
const CALLS = [
  'read',
  'cancel',
  'subscriptions',
  'deleteSubscription',
  'replay',
  'stats',
  'schedule',
  'schedules',
  'unschedule',
  'runSchedule',
  'deadLetters.list',
  'deadLetters.redrive',
  'deadLetters.discard',
] as const
/** @internal A method `BusObject.call` runs. @example const m: Call = 'stats' */
export type Call = (typeof CALLS)[number]

/**
 * @internal Runs one read or admin method of the Bus API by name, its arguments checked first.
 *
 * @example
 * const stats = await callBus(bus, 'stats', [])
 */
export const callBus = (bus: Bus, method: unknown, args: unknown): unknown => {
  check(
    typeof method === 'string' && (CALLS as readonly string[]).includes(method),
    `no method ${JSON.stringify(method)}`,
  )
  check(Array.isArray(args) && args.length <= 3, 'args must be an array')
  const [a, b] = args as [never, never]
  switch (method as Call) {
    case 'deadLetters.list':
      return bus.deadLetters.list(a)
    case 'deadLetters.redrive':
      return bus.deadLetters.redrive(a)
    case 'deadLetters.discard':
      return bus.deadLetters.discard(a)
    case 'stats':
      return bus.stats().then(withSamples)
    default:
      return (
        bus[method as Exclude<Call, `deadLetters.${string}`>] as (a: never, b: never) => unknown
      )(a, b)
  }
}
