import { describeValue } from './check.js'
import { fail } from './errors.js'
import type { BusEvent } from './event.js'
import type { Versions } from './versions.js'

/** A bus's versions: what is known now, and the lazy load of the upcasting code when needed. */
export interface Versioning {
  /** The checked option; `undefined` until the versions code has loaded. */
  now(): Versions | undefined
  /** Settles once the versions code has loaded (`undefined` when nothing needs loading). */
  loaded: Promise<void> | undefined
  /** The event as consumers see it: upcast to its type's current version. */
  view(event: BusEvent): BusEvent
}

/** Every type at version 1: nothing to load, nothing to upcast. */
const unversioned: Versions = {
  current: () => 1,
  check: (type, version) =>
    version === undefined || version === 1
      ? 1
      : fail(
          'INVALID_OPTIONS',
          `"${type}" has no version ${describeValue(version)}: it has no versions option, so its only version is 1`,
        ),
  upcast: (_type, _from, data) => data,
  view: (event) => event,
}

/**
 * Without a versions option every type is at version 1. With one, its code loads lazily (outside
 * the entry chunk) and the log starts once it has: a malformed option fails start-up (publish and
 * idle reject with INVALID_OPTIONS, nothing is written).
 *
 * @example
 * const versioning = createVersioning(options.versions)
 * const log = createLog({ ...logOptions, before: versioning.loaded })
 */
export const createVersioning = (option: unknown): Versioning => {
  let versions: Versions | undefined = option === undefined ? unversioned : undefined
  const loaded = versions
    ? undefined
    : import('./versions.js').then((module) => {
        versions = module.createVersions(option)
      })
  return { now: () => versions, loaded, view: (event) => versions!.view(event) }
}
