import {
  NonRetriableError,
  RetryAfterError,
  TidingsError,
  type ErrorCode,
} from '../../src/errors.js'

/**
 * @internal What crosses Durable Object RPC instead of a thrown error: RPC keeps an error's message
 * but not its `code`, and the client must rethrow the same `TidingsError` the bus would have.
 *
 * @example
 * const r: Reply<number> = { ok: true, value: 1 }
 */
export type Reply<T> = { ok: true; value: T } | { ok: false; error: WireError }
/** @internal An error as plain data. @example const e: WireError = { name: 'TidingsError', code: 'CLOSED', message: 'closed' } */
export interface WireError {
  name: string
  message: string
  code?: string
  retryAfter?: number
}

/** @internal Plain data for an error. @example toWire(new TidingsError('CLOSED', 'x')) // { name: 'TidingsError', code: 'CLOSED', message: 'x' } */
export const toWire = (e: unknown): WireError => {
  const err = e as Partial<TidingsError & RetryAfterError> | undefined
  const out: WireError = { name: String(err?.name ?? 'Error'), message: String(err?.message ?? e) }
  if (typeof err?.code === 'string') out.code = err.code
  if (typeof err?.retryAfter === 'number') out.retryAfter = err.retryAfter
  return out
}

/** @internal The error {@link toWire} described, as the class a caller can test with `instanceof`. @example throw fromWire({ name: 'Error', message: 'x' }) */
export const fromWire = (w: WireError): Error => {
  // By name, not by code: a handler's own error with a string code (ECONNRESET) stays what it was.
  if (w.name === 'NonRetriableError') return new NonRetriableError(w.message)
  if (w.name === 'RetryAfterError' && typeof w.retryAfter === 'number')
    return new RetryAfterError(w.retryAfter, w.message)
  if (w.name === 'TidingsError' && w.code) return new TidingsError(w.code as ErrorCode, w.message)
  const e = new Error(w.message) as Error & { code?: string }
  e.name = w.name
  if (w.code) e.code = w.code
  return e
}

/** @internal Runs `fn`, turning a throw into a failed {@link Reply}. @example await reply(() => bus.stats()) */
export const reply = async <T>(fn: () => Promise<T> | T): Promise<Reply<T>> => {
  try {
    return { ok: true, value: await fn() }
  } catch (e) {
    return { ok: false, error: toWire(e) }
  }
}

/** @internal The value of a {@link Reply}, or its error thrown. @example const stats = unwrap(await stub.call('stats', [])) */
export const unwrap = <T>(r: Reply<T>): T => {
  if (r.ok) return r.value
  throw fromWire(r.error)
}

/** @internal Refuses a malformed RPC argument before anything is touched. @example check(Array.isArray(x), 'items must be an array') */
export const check = (ok: boolean, message: string): void => {
  if (!ok) throw new TidingsError('INVALID_OPTIONS', `malformed RPC argument: ${message}`)
}

/** @internal A plain object (not null, not an array). @example isRecord({}) // true */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
