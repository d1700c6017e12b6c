// Miniflare never fires Cron Triggers by itself: this drives the Worker's scheduled() handler on
// the crons of wrangler.toml, in UTC as Cloudflare does.
import { Cron } from 'croner'

/**
 * Starts one croner job per cron line; each tick calls `fire(cron, scheduledTime)` with the
 * tick's own time (not "now"), which is what makes the event id the alarm would use for it.
 * Returns the stop function.
 *
 * @example
 * const stop = driveCrons(['* * * * *'], (cron, at) => worker.scheduled({ cron, scheduledTime: new Date(at) }))
 */
export const driveCrons = (crons, fire, onError = (e) => console.error('cron:', e)) => {
  const jobs = crons.map(
    (cron) =>
      new Cron(cron, { timezone: 'UTC', protect: true }, async (job) => {
        const at = job.currentRun()?.getTime() ?? Math.floor(Date.now() / 1000) * 1000
        try {
          await fire(cron, at)
        } catch (e) {
          onError(e)
        }
      }),
  )
  return () => {
    for (const j of jobs) j.stop()
  }
}
