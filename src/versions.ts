import { fail, TidingsError } from './errors.js'
import type { BusEvent } from './event.js'
import { describeValue } from './check.js'

/**
 * How one event type evolves: its `current` version and, for each older version `n`, the function
 * that turns a version-`n` payload into a version-`n + 1` one. Upcasters are pure: they return a
 * new value and never change their input (which is the stored event's data).
 *
 * @example
 * const placed: VersionSpec = { current: 2, upcast: { 1: (v1: { total: number }) => ({ amount: v1.total, currency: 'EUR' }) } }
 */
export interface VersionSpec {
  current: number
  upcast?: { [from: number]: (data: any) => unknown }
}

/** What the bus keeps of a checked `versions` option: per type, its current version and steps. */
export interface Versions {
  /** The version `publish` stamps when given none (1 for a type with no entry). */
  current(type: string): number
  /** A `{ version }` option checked against the type: an integer in 1..current. */
  check(type: string, version: unknown): number
  /** Runs the chain from `from` up to the current version. */
  upcast(type: string, from: number, data: unknown): unknown
  /** The event as consumers see it: upcast to its type's current version (the same object when it is). */
  view(event: BusEvent): BusEvent
}

// 32-bit: CloudEvents carries the version as an Integer attribute.
const MAX_VERSION = 2 ** 31 - 1
const isVersion = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_VERSION

/**
 * Checks the `versions` option of `createBus` (own entries only; every step from 1 up to `current`
 * present and a function) and returns what publish and the consumers' view use. Throws
 * `INVALID_OPTIONS` naming the type and the step; a getter that throws becomes the `cause`.
 *
 * @example
 * const versions = createVersions({ 'order.placed': { current: 2, upcast: { 1: (d) => ({ ...d, currency: 'EUR' }) } } })
 * versions.view(storedV1Event).version // 2
 */
export const createVersions = (given: unknown): Versions => {
  const chains = new Map<string, { current: number; steps: ((data: unknown) => unknown)[] }>()
  try {
    if (given !== undefined && (!given || typeof given !== 'object' || Array.isArray(given)))
      fail(
        'INVALID_OPTIONS',
        `versions takes { [type]: { current, upcast } }, got ${describeValue(given)}`,
      )
    for (const type of Object.keys(given ?? {})) {
      const spec = (given as Record<string, VersionSpec | undefined>)[type]
      const what = `versions["${type.slice(0, 60)}"]`
      if (!spec || typeof spec !== 'object')
        fail('INVALID_OPTIONS', `${what} must be { current, upcast }, got ${describeValue(spec)}`)
      const { current, upcast = {} } = spec as VersionSpec
      if (!isVersion(current))
        fail(
          'INVALID_OPTIONS',
          `${what}.current must be an integer in 1..${MAX_VERSION}, got ${describeValue(current)}`,
        )
      if (!upcast || typeof upcast !== 'object')
        fail(
          'INVALID_OPTIONS',
          `${what}.upcast must be an object of functions, got ${describeValue(upcast)}`,
        )
      for (const key of Object.keys(upcast))
        if (!(+key >= 1 && +key < current && String(+key) === key))
          fail(
            'INVALID_OPTIONS',
            `${what}.upcast has a step from ${describeValue(key)}: steps go from 1..${current - 1}`,
          )
      const steps = []
      for (let from = 1; from < current; from++) {
        const step = (upcast as Record<number, unknown>)[from]
        if (typeof step !== 'function')
          fail('INVALID_OPTIONS', `${what} has no upcaster from version ${from} to ${from + 1}`)
        steps[from] = step as (data: unknown) => unknown
      }
      chains.set(type, { current, steps })
    }
  } catch (error) {
    throw error instanceof TidingsError
      ? error
      : new TidingsError('INVALID_OPTIONS', 'reading the versions option threw', { cause: error })
  }

  const current = (type: string) => chains.get(type)?.current ?? 1
  const upcast = (type: string, from: number, data: unknown) => {
    const chain = chains.get(type)!
    for (let at = from; at < chain.current; at++) {
      const step = `upcasting "${type}" from version ${at} to ${at + 1}`
      try {
        data = chain.steps[at]!(data)
      } catch (error) {
        throw new TidingsError('INVALID_PAYLOAD', `${step} threw`, { cause: error })
      }
      if (typeof (data as PromiseLike<unknown> | undefined)?.then === 'function')
        fail('INVALID_PAYLOAD', `${step} returned a promise: upcasters are synchronous`)
    }
    return data
  }
  return {
    current,
    upcast,
    check(type, version) {
      const now = current(type)
      if (version === undefined) return now
      if (!isVersion(version))
        return fail(
          'INVALID_OPTIONS',
          `version must be an integer >= 1, got ${describeValue(version)}`,
        )
      if (version > now)
        fail(
          'INVALID_OPTIONS',
          `"${type}" version ${version} is newer than its current version ${now}`,
        )
      return version
    },
    view(event) {
      const chain = chains.get(event.type)
      if (!chain || event.version === chain.current) return event
      const from = event.version ?? 1
      if (from > chain.current)
        fail(
          'INVALID_PAYLOAD',
          `event #${event.seq} "${event.type}" is version ${from}, newer than this bus's current version ${chain.current}`,
        )
      return Object.freeze({
        ...event,
        data: upcast(event.type, from, event.data),
        version: chain.current,
      })
    },
  }
}
