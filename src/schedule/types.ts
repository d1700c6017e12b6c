/** The types of schedules: what `schedule()` takes and `schedules()` lists. Types only. */

/**
 * What a schedule publishes and when: exactly one of `cron` (5 or 6 fields, IANA `timezone`,
 * default UTC), `every` (ms, ticking at whole multiples since the Unix epoch) or `at` (once).
 *
 * @example
 * await bus.schedule('nightly-report', { cron: '0 2 * * *', timezone: 'Europe/Paris', type: 'report.due', data: {} })
 */
export interface ScheduleSpec<T extends string = string, D = unknown> {
  cron?: string
  every?: number
  at?: number | Date
  timezone?: string
  type: T
  data: D
  /** Ticks missed while no bus ran: `'latest'` fires the last one (default), `'all'` the last 100, `'none'` none. */
  catchUp?: 'none' | 'latest' | 'all'
  /** `'skip'` drops a tick while the previous tick's event is unhandled by an attached subscription it matched. */
  overlap?: 'allow' | 'skip'
}

/** What `schedules()` lists. */
export interface ScheduleInfo {
  name: string
  spec: ScheduleSpec
  nextAt: number | undefined
  lastFiredAt?: number
}
