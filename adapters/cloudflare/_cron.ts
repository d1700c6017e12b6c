import type { Bus } from '../../src/index.js'
import { tickId } from '../../src/internal.js'
import { check } from './_wire.js'

/**
 * @internal A Cron Trigger fired: publishes every UTC schedule with this exact cron expression,
 * with the id the alarm would use for that tick (`schedule:<name>:<scheduledTime>`), so a double
 * fire, or the cron and the alarm both firing, store one event.
 *
 * @example
 * await fireCron(bus, '0 2 * * *', controller.scheduledTime)
 */
export const fireCron = async (
  bus: Bus,
  cron: unknown,
  scheduledTime: unknown,
): Promise<{ name: string; id: string; seq: number; duplicate: boolean }[]> => {
  check(
    typeof cron === 'string' && Number.isFinite(scheduledTime),
    'fireCron(cron: string, scheduledTime: epoch ms)',
  )
  const norm = (c: string) => c.trim().split(/\s+/).join(' ')
  const due = (await bus.schedules()).filter(
    (s) =>
      s.spec.cron !== undefined &&
      norm(s.spec.cron) === norm(cron as string) &&
      (s.spec.timezone ?? 'UTC') === 'UTC',
  )
  return Promise.all(
    due.map(async (s) => ({
      name: s.name,
      ...(await bus.runSchedule(s.name, { id: tickId(s.name, scheduledTime as number) })),
    })),
  )
}
