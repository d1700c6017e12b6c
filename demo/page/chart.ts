// Events per second over the last minute, drawn on the dashboard's canvas.
import { $ } from './dom.js'

/** Seconds the rate in the label is averaged over (the bars show each second). */
const RATE_WINDOW = 10

/**
 * The chart's label: the rate now (the last complete seconds' average), and the scale of the
 * bars only when there is one, so an idle chart reads 0, not its minimum scale of 1.
 *
 * @example
 * rateLabel([...Array(59).fill(0), 3]) // '0 events/s · peak 3/s in the last 60 s' (the current second is still counting)
 */
export const rateLabel = (buckets: readonly number[]): string => {
  // The last bucket is the second in progress: averaging it would undercount.
  const done = buckets.slice(0, -1).slice(-RATE_WINDOW)
  const rate = done.reduce((a, n) => a + n, 0) / Math.max(1, done.length)
  const peak = Math.max(0, ...buckets)
  const shown = rate === 0 ? '0' : rate < 10 ? rate.toFixed(1) : String(Math.round(rate))
  return peak
    ? `${shown} events/s · peak ${peak}/s in the last ${buckets.length} s`
    : `${shown} events/s`
}

/** Starts drawing; returns `count()`, called once per event. */
export const throughput = () => {
  const buckets: number[] = Array(60).fill(0)
  let current = Math.floor(Date.now() / 1000)
  const roll = () => {
    const now = Math.floor(Date.now() / 1000)
    for (; current < now; current++) {
      buckets.shift()
      buckets.push(0)
    }
  }
  const draw = () => {
    roll()
    const c = $<HTMLCanvasElement>('#chart')
    const g = c.getContext('2d')!
    const max = Math.max(1, ...buckets)
    g.clearRect(0, 0, c.width, c.height)
    g.fillStyle = '#4f7cff'
    const w = c.width / buckets.length
    buckets.forEach((n, i) => {
      const h = (n / max) * (c.height - 14)
      g.fillRect(i * w + 1, c.height - h, w - 2, h)
    })
    const label = rateLabel(buckets)
    g.fillStyle = '#888'
    g.fillText(label, 4, 11)
    // The same words for screen readers and tests (the canvas itself is pixels).
    c.setAttribute('aria-label', label)
  }
  setInterval(draw, 1000)
  draw()
  return {
    count: () => {
      roll()
      buckets[buckets.length - 1]!++
    },
  }
}
