import { fail } from '../errors.js'
import { describeValue } from '../describe.js'

/** A subscription's name: 1..128 characters of `[A-Za-z0-9_-]` (it is part of its store keys). */
export const SUBSCRIPTION_NAME: RegExp = /^[\w-]{1,128}$/

/**
 * Refuses a subscription name outside {@link SUBSCRIPTION_NAME} with `INVALID_OPTIONS`.
 *
 * @example
 * checkSubscriptionName('mailer')   // passes
 * checkSubscriptionName('a/b')      // throws TidingsError INVALID_OPTIONS
 */
export const checkSubscriptionName = (name: unknown): void => {
  if (typeof name !== 'string' || !SUBSCRIPTION_NAME.test(name))
    fail(
      'INVALID_OPTIONS',
      `subscription name ${describeValue(name)} must be 1..128 characters of [A-Za-z0-9_-]`,
    )
}
