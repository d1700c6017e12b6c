import { TidingsError, type ErrorCode } from '../../src/errors.js'

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_TOPIC: 400,
  INVALID_PATTERN: 400,
  INVALID_FILTER: 400,
  INVALID_PAYLOAD: 400,
  INVALID_OPTIONS: 400,
  INVALID_CURSOR: 400,
  INVALID_SCHEDULE: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  BAD_SIGNATURE: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  STORAGE_FULL: 507,
  TIMEOUT: 504,
  CLOSED: 503,
  ALREADY_SUBSCRIBED: 409,
  CONFLICT: 409,
}

/** An HTTP error reply: `{ error: { code, message } }`, never a stack or an internal message. */
export const errorReply = (
  e: unknown,
): { status: number; body: { error: { code: string; message: string } } } => {
  if (e instanceof TidingsError && STATUS[e.code])
    return { status: STATUS[e.code]!, body: { error: { code: e.code, message: e.message } } }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } }
}
