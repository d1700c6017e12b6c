/**
 * Stable error codes. A code never changes meaning; switch on it, not on the message.
 */
export type ErrorCode =
  | 'INVALID_TOPIC'
  | 'INVALID_PATTERN'
  | 'INVALID_FILTER'
  | 'INVALID_PAYLOAD'
  | 'INVALID_OPTIONS'
  | 'INVALID_CURSOR'
  | 'INVALID_SCHEDULE'
  | 'PAYLOAD_TOO_LARGE'
  | 'STORAGE_FULL'
  | 'CONFLICT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'BAD_SIGNATURE'
  | 'RATE_LIMITED'
  | 'TIMEOUT'
  | 'ALREADY_SUBSCRIBED'
  | 'NON_RETRIABLE'
  | 'RETRY_AFTER'
  | 'CLOSED'

/**
 * The one error family of tidings: every rejection is a `TidingsError` with a stable `code`.
 *
 * @example
 * try { await bus.publish('order..placed', {}) }
 * catch (e) { if (e instanceof TidingsError && e.code === 'INVALID_TOPIC') console.warn(e.message) }
 */
export class TidingsError extends Error {
  /** The stable, machine-readable reason. */
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'TidingsError'
    this.code = code
  }
}

/**
 * Thrown by a handler to send the event straight to the dead letters, skipping the remaining attempts.
 *
 * @example
 * await bus.subscribe('mailer', 'user.created', async (e) => {
 *   if (!e.data.email) throw new NonRetriableError('no email address')
 * })
 */
export class NonRetriableError extends TidingsError {
  constructor(message: string, options?: ErrorOptions) {
    super('NON_RETRIABLE', message, options)
    this.name = 'NonRetriableError'
  }
}

/**
 * Thrown by a handler to schedule the next attempt after `ms` instead of the backoff delay.
 *
 * @example
 * throw new RetryAfterError(30_000, 'upstream rate limit')
 */
export class RetryAfterError extends TidingsError {
  /** Milliseconds until the next attempt. */
  readonly retryAfter: number
  constructor(ms: number, message = `retry after ${ms} ms`, options?: ErrorOptions) {
    super('RETRY_AFTER', message, options)
    this.name = 'RetryAfterError'
    this.retryAfter = ms
  }
}

/** @internal A shorthand the core uses to throw. */
export const fail = (code: ErrorCode, message: string): never => {
  throw new TidingsError(code, message)
}
