import { coded, describeValue } from '../check.js'
import { fail } from '../errors.js'

const NAME = /^[\w-]{1,128}$/

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
  if (typeof name !== 'string' || !NAME.test(name))
    fail(
      'INVALID_OPTIONS',
      `subscription name ${describeValue(name)} must be 1..128 characters of [A-Za-z0-9_-]`,
    )
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
