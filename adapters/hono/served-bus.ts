import type { Bus } from '../../src/index.js'
/**
 * What {@link busApp} uses of a bus: the local `Bus` and the Cloudflare client (`CloudflareBus`)
 * both fit. `on` is optional: over a bus without it, `GET /stream` needs `stream: { poll }` (it
 * tails the log with `read`) and is refused with `INVALID_OPTIONS` otherwise.
 *
 * @example
 * const serve = (bus: ServedBus) => busApp({ bus, auth: false, stream: { poll: 500 } })
 */
export interface ServedBus extends Pick<
  Bus,
  'publish' | 'publishMany' | 'read' | 'schedules' | 'runSchedule' | 'deadLetters' | 'stats'
> {
  /** A live listener, where the bus has one; `GET /stream` listens with it unless `stream.poll` is given. */
  on?: Bus['on']
}
