import type { Clock } from '../clock/clock.js'
import { fail, TidingsError } from '../errors.js'
import { coded, describeValue, optionsOf, signalOf } from '../check.js'
import type { BusEvent } from '../event.js'
import { compileFilter, type Filter } from '../filter/filter.js'
import type { Log } from './log.js'
import { compilePattern } from '../topic/pattern.js'

interface WaitOptions {
  filter?: Filter | ((e: BusEvent) => boolean) | undefined
  timeout?: number | undefined
  signal?: AbortSignal | undefined
  since?: number | undefined
}

/** A duration option: absent, or ms in 0..2^53. */
const ms = (what: string, v: unknown): number | undefined =>
  v === undefined || (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER)
    ? (v as number | undefined)
    : fail('INVALID_OPTIONS', `waitFor: ${what} must be ms >= 0, got ${describeValue(v)}`)

/** The options of `waitFor`, checked; a getter or Proxy that throws is `INVALID_OPTIONS` with its error as cause. */
const optionsOfWait = (o: WaitOptions | undefined): WaitOptions => {
  try {
    const { filter, timeout, signal, since } = optionsOf(o, 'waitFor')
    return {
      filter,
      timeout: ms('timeout', timeout),
      signal: signalOf(signal),
      since: ms('since', since),
    }
  } catch (e) {
    throw coded(e, 'INVALID_OPTIONS', 'reading the options of waitFor() threw')
  }
}

interface Wait {
  log: Log
  /** Upcasts a stored event to its type's current version (the lookback reads the log). */
  view(event: BusEvent): BusEvent
  clock: Clock
  pattern: string
  options: WaitOptions | undefined
  /** Matches that arrived before this module loaded. */
  early: BusEvent[]
  /** Removes the listener the bus registered synchronously. */
  off(): void
  /** Hands the listener its real callback. */
  listen(f: (e: BusEvent) => void): void
  /** Aborted when the bus closes. */
  closing: AbortSignal
}

/** The most recent event at or after `after` (epoch ms) that matches, reading the log backwards. */
const recent = async (
  log: Log,
  view: (e: BusEvent) => BusEvent,
  pattern: string,
  test: (e: BusEvent) => boolean,
  after: number,
): Promise<BusEvent | undefined> => {
  const topic = compilePattern(pattern)
  for (let end = log.head + 1; end > 0;) {
    const page = await log.readBack(end, 256)
    for (const e of page) {
      if (e.time < after) return undefined
      if (!topic(e.type)) continue
      // An event whose upcaster throws is skipped, as live listeners skip it (onError has it).
      let seen: BusEvent
      try {
        seen = view(e)
      } catch {
        continue
      }
      if (test(seen)) return seen
    }
    if (page.length < 256) return undefined
    end = page[page.length - 1]!.seq
  }
  return undefined
}

/** `bus.waitFor` once its listener is in place: filter, lookback, timeout and signal. */
export const wait = ({
  log,
  clock,
  view,
  pattern,
  options,
  early,
  off,
  listen,
  closing,
}: Wait): Promise<BusEvent> =>
  new Promise((resolve, reject) => {
    let o: WaitOptions
    try {
      o = optionsOfWait(options)
    } catch (e) {
      off()
      return reject(e)
    }
    const { filter, timeout, signal, since } = o
    let timer: unknown
    const finish = (f: () => void) => {
      off()
      clock.clearTimer(timer)
      signal?.removeEventListener('abort', aborted)
      closing.removeEventListener('abort', closed)
      f()
    }
    const aborted = () => finish(() => reject(signal!.reason))
    const closed = () => finish(() => reject(closing.reason))
    if (closing.aborted) return closed()
    closing.addEventListener('abort', closed, { once: true })
    let test: (e: BusEvent) => boolean
    try {
      test = filter === undefined ? () => true : compileFilter(filter as Filter)
    } catch (e) {
      return finish(() => reject(coded(e, 'INVALID_FILTER', 'reading the filter threw')))
    }
    if (signal?.aborted) return aborted()
    signal?.addEventListener('abort', aborted, { once: true })
    if (timeout !== undefined)
      timer = clock.setTimer(clock.now() + timeout, () =>
        finish(() =>
          reject(new TidingsError('TIMEOUT', `no "${pattern}" event within ${timeout} ms`)),
        ),
      )
    const hit = (e: BusEvent) => {
      if (test(e)) finish(() => resolve(e))
    }
    void (async () => {
      // The lookback closes the race where the event landed just before the wait.
      const before = since ? await recent(log, view, pattern, test, clock.now() - since) : undefined
      if (before) return finish(() => resolve(before))
      listen(hit)
      const first = early.find(test)
      if (first) finish(() => resolve(first))
    })().catch((e) => finish(() => reject(e)))
  })
