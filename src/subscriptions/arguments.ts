import { checkSubscriptionName } from './name.js'
import { coded, describeValue } from '../check.js'
import { fail } from '../errors.js'
import { MAX_BATCH_SIZE } from './batch.js'

/**
 * Refuses a value that is given and not a positive (integer) number.
 *
 * @example
 * checkPositive('concurrency', options.concurrency)
 */
export const checkPositive = (what: string, value: unknown, integer = true): void => {
  if (
    value !== undefined &&
    (typeof value !== 'number' ||
      !(value > 0) ||
      (integer && !Number.isInteger(value)) ||
      value === Infinity)
  ) {
    fail(
      'INVALID_OPTIONS',
      `${what} must be a positive ${integer ? 'integer' : 'number'}, got ${describeValue(value)}`,
    )
  }
}

/**
 * A start or replay point, checked before anything is read or written.
 *
 * @example
 * checkPoint({ seq: 0 })
 */
export const checkPoint = (point: unknown): void => {
  const ok =
    point === 'latest' ||
    point === 'earliest' ||
    (!!point &&
      typeof point === 'object' &&
      (('seq' in point && Number.isSafeInteger(point.seq) && (point.seq as number) >= 0) ||
        ('time' in point && Number.isFinite(point.time))))
  if (!ok)
    fail(
      'INVALID_OPTIONS',
      `from must be 'latest', 'earliest', { seq } or { time }, got ${describeValue(point)}`,
    )
}

/**
 * A subscription name: 1..128 characters of [A-Za-z0-9_-].
 *
 * @example
 * checkName('mailer')
 */
export const checkName = (name: unknown): void => {
  checkSubscriptionName(name)
}

/**
 * `ids` of redrive and discard: absent (all), or an array of strings.
 *
 * @example
 * checkIds(['mailer/42'])
 */
export const checkIds = (ids: unknown): void => {
  // for-of, not every(): a hole is refused at once, so a huge sparse array is not walked.
  if (ids !== undefined) {
    for (const id of Array.isArray(ids) ? (ids as unknown[]) : [ids]) {
      if (typeof id !== 'string' || !Array.isArray(ids))
        fail(
          'INVALID_OPTIONS',
          `ids must be an array of dead-letter ids, got ${describeValue(ids)}`,
        )
    }
  }
}

/**
 * Runs an argument check; a getter or Proxy trap that throws becomes INVALID_OPTIONS with it as cause.
 *
 * @example
 * checking(() => { checkName(name); checkPoint(point) })
 */
export const checking = (check: () => void): void => {
  try {
    check()
  } catch (error) {
    throw coded(error, 'INVALID_OPTIONS', 'reading the arguments threw')
  }
}

/**
 * A batch subscription's `batch`: `{ size, wait? }`, size an integer 1..MAX_BATCH_SIZE, wait a
 * finite number of ms ≥ 0. Returns the copy that runs (wait defaulted to 0).
 *
 * @example
 * const batch = checkBatch({ size: 100, wait: 5000 })
 */
export const checkBatch = (batch: unknown): { size: number; wait: number } => {
  if (!batch || typeof batch !== 'object' || Array.isArray(batch))
    fail('INVALID_OPTIONS', `batch must be { size, wait? }, got ${describeValue(batch)}`)
  const { size, wait, ...rest } = batch as { size?: unknown; wait?: unknown }
  const unknown = Object.keys(rest)
  if (unknown.length)
    fail('INVALID_OPTIONS', `batch takes size and wait, not ${describeValue(unknown[0])}`)
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) {
    fail(
      'INVALID_OPTIONS',
      `batch.size must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${describeValue(size)}`,
    )
  }
  if (wait !== undefined && (typeof wait !== 'number' || !Number.isFinite(wait) || wait < 0)) {
    fail(
      'INVALID_OPTIONS',
      `batch.wait must be a finite number of ms, 0 or more, got ${describeValue(wait)}`,
    )
  }
  return { size: size as number, wait: (wait as number | undefined) ?? 0 }
}
