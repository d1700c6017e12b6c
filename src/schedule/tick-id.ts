const TICK = 'schedule:'

/**
 * The id of a schedule's tick, `schedule:<name>:<tick>`: the same on every bus and every retry, so a
 * tick fired twice (two buses, an alarm and a cron trigger) is stored once.
 *
 * @example
 * tickId('nightly', 1_700_000_000_000) // 'schedule:nightly:1700000000000'
 */
export const tickId = (name: string, tick: number | string): string => `${TICK}${name}:${tick}`

/**
 * The schedule name an id claims, when it is in the tick namespace (`schedule:<name>:...`).
 *
 * @example
 * parseTickId('schedule:nightly:17') // { name: 'nightly', tick: '17' }
 * parseTickId('order-1')             // undefined
 */
export const parseTickId = (id: string): { name: string; tick: string } | undefined => {
  if (!id.startsWith(TICK)) return undefined
  const [, name = '', ...rest] = id.split(':')
  return { name, tick: rest.join(':') }
}
