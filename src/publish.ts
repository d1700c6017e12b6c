import {
  checkEnvelope,
  coded,
  describeValue,
  draftEvent,
  MAX_TIME,
  NO_OPTIONS,
  optionsOf,
  type EventLimits,
} from './check.js'
import type { Clock } from './clock/clock.js'
import { fail } from './errors.js'
import type { Draft, Log } from './log/log.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { PublishInput, PublishOptions } from './types.js'
import type { Versioning } from './versioning.js'

/** Turning what `publish` and `publishMany` are given into drafts for the log. */
export interface Publisher {
  /** Everything that can be checked before a place in line is taken; async schemas yield a promise. */
  prepare(
    type: string,
    data: unknown,
    options?: PublishOptions & { version?: unknown },
  ): Draft | Promise<Draft>
  /** publishMany (and a traced publish): everything checked first, then one place in line for all. */
  append(inputs: () => readonly PublishInput[], single: boolean): Promise<any>
  /** publish: what `append` does for one event, without its arrays and spreads. */
  appendOne(type: string, data: unknown, options: PublishOptions | undefined): Promise<any>
}

/** When a delayed publish is due (0: now). A due time already past appends at once. */
const holdOf = (clock: Clock, { delay, at }: { delay?: unknown; at?: unknown }): number => {
  if (delay === undefined && at === undefined) return 0
  const due: unknown =
    at instanceof Date
      ? at.getTime()
      : (at ?? (typeof delay === 'number' && delay >= 0 ? clock.now() + delay : NaN))
  if (
    (delay !== undefined && at !== undefined) ||
    typeof due !== 'number' ||
    !(due <= MAX_TIME) ||
    due !== due
  ) {
    fail(
      'INVALID_OPTIONS',
      `delay ${describeValue(delay)} / at ${describeValue(at)}: give delay (ms >= 0) or at (epoch ms, Date), due by year 9999`,
    )
  }
  return (due as number) > clock.now() ? Math.ceil(due as number) : 0
}

/**
 * The schema's verdict on the current version's payload, then the draft (of the payload as sent
 * when it is of an older version). Throws or rejects `INVALID_PAYLOAD`.
 *
 * @example
 * const draft = await validated(schema, current, '', type, data, options, 1, undefined, limits)
 */
const validated = (
  schema: StandardSchemaV1,
  current: unknown,
  id: string,
  type: string,
  data: unknown,
  options: PublishOptions,
  version: number,
  /** The current version when the event is of an older one (its upcast went to the schema). */
  upcastTo: number | undefined,
  limits: EventLimits,
): Draft | Promise<Draft> => {
  const older = upcastTo !== undefined
  const checked = (result: StandardSchemaV1.Result<unknown>) => {
    if (!result.issues)
      return draftEvent(id, type, older ? data : result.value, options, limits, version)
    const what = result.issues.map(
      (issue) =>
        `${issue.path?.map((part) => String(typeof part === 'object' ? part.key : part)).join('.') || '(root)'}: ${issue.message}`,
    )
    return fail(
      'INVALID_PAYLOAD',
      `"${type}"${older ? ` version ${version} upcast to ${upcastTo}` : ''} failed its schema: ${what.join('; ')}`,
    )
  }
  const invalid = (error: unknown): never => {
    throw coded(error, 'INVALID_PAYLOAD', `"${type}": its schema threw`)
  }
  let result: StandardSchemaV1.Result<unknown> | PromiseLike<StandardSchemaV1.Result<unknown>>
  try {
    result = schema['~standard'].validate(current)
  } catch (error) {
    return invalid(error)
  }
  return typeof (result as PromiseLike<unknown>)?.then === 'function'
    ? Promise.resolve(result).then(checked, invalid)
    : checked(result as StandardSchemaV1.Result<unknown>)
}

/**
 * Checks envelopes, runs schemas and works out delays, then appends to the log.
 *
 * @example
 * const publisher = createPublisher(clock, log, schemas, limits, () => closed, versioning)
 * await publisher.append(() => [{ type: 'order.placed', data }], true)
 */
export const createPublisher = (
  clock: Clock,
  log: Log,
  schemas: Record<string, StandardSchemaV1 | undefined>,
  limits: EventLimits,
  isClosed: () => boolean,
  versioning: Versioning,
): Publisher => {
  // Own entries only: a topic named `constructor` or `toString` has no schema of Object.prototype's.
  const schemaOf = (type: string) => (Object.hasOwn(schemas, type) ? schemas[type] : undefined)

  // No closures on the way of a publish without a schema: nothing to allocate but the draft.
  const prepare = (
    type: string,
    data: unknown,
    options: PublishOptions & { version?: unknown } = NO_OPTIONS,
  ): Draft | Promise<Draft> => {
    if (isClosed()) fail('CLOSED', 'the bus is closed')
    checkEnvelope(type, options)
    // No id yet when none is given: the log gives one when the event reaches it.
    const id = options.id ?? ''
    const versions = versioning.now()!
    const version = versions.check(type, options.version)
    // An older version is stored as sent; what must pass the schema is its upcast to the current one.
    const currentVersion = versions.current(type)
    const older = version < currentVersion
    const current = older ? versions.upcast(type, version, data) : data
    const schema = schemaOf(type)
    return schema
      ? validated(
          schema,
          current,
          id,
          type,
          data,
          options,
          version,
          older ? currentVersion : undefined,
          limits,
        )
      : draftEvent(id, type, data, options, limits, version)
  }

  /** Until the versions code has loaded, the draft is a promise: the place in line is taken now. */
  const prepareLater = (type: string, data: unknown, input: PublishOptions) =>
    versioning.loaded!.then(() => prepare(type, data, input))

  const append = (inputs: () => readonly PublishInput[], single: boolean): Promise<any> => {
    let drafts, holds
    try {
      const all = inputs()
      if (!Array.isArray(all))
        fail('INVALID_OPTIONS', `publishMany takes an array, got ${describeValue(all)}`)
      // A hole or a null is refused at once: a sparse array with a huge length is not walked.
      for (const input of all) optionsOf(input ?? null, 'publishMany: each event')
      holds = all.map((input) => holdOf(clock, input))
      // prepare reads the options by name: the input itself serves, no copy per publish.
      const prepareAll = () =>
        all.map((input) => prepare(input.type, input.data, input as PublishOptions))
      // Until the versions code has loaded, the drafts are a promise, as with async schemas: the place in line is taken now.
      drafts = versioning.now()
        ? prepareAll()
        : [versioning.loaded!.then(() => Promise.all(prepareAll()))]
    } catch (error) {
      return Promise.reject(coded(error, 'INVALID_OPTIONS', 'reading the options threw'))
    }
    return log.append(
      drafts.some((draft) => draft instanceof Promise)
        ? Promise.all(drafts).then((settled) => settled.flat())
        : (drafts as Draft[]),
      single,
      undefined,
      holds.some(Boolean) ? holds : undefined,
    )
  }

  const appendOne = (
    type: string,
    data: unknown,
    options: PublishOptions | undefined,
  ): Promise<any> => {
    let draft: Draft | Promise<Draft>, hold
    try {
      // Copied once, so a getter read while checking cannot hand something else to the log.
      const input = options === undefined ? NO_OPTIONS : { ...optionsOf(options, 'publish') }
      hold = holdOf(clock, input as { delay?: unknown; at?: unknown })
      draft = versioning.now() ? prepare(type, data, input) : prepareLater(type, data, input)
    } catch (error) {
      return Promise.reject(coded(error, 'INVALID_OPTIONS', 'reading the options threw'))
    }
    return log.append(
      draft instanceof Promise ? draft.then((checked) => [checked]) : [draft],
      true,
      undefined,
      hold ? [hold] : undefined,
    )
  }

  return { prepare, append, appendOne }
}
