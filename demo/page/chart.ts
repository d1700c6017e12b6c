// Events per second over the last minute, drawn on the dashboard's canvas.
import { $ } from './dom.js'

/** Starts drawing; returns `count()`, called once per event. */
export const throughput = () => {
  const buckets: number[] = Array(60).fill(0)
  let current = Math.floor(Date.now() / 1000)
  const roll = () => {
    const now = Math.floor(Date.now() / 1000)
    for (; current < now; current++) { buckets.shift(); buckets.push(0) }
  }
  const draw = () => {
    roll()
    const c = $<HTMLCanvasElement>('#chart')
    const g = c.getContext('2d')!
    const max = Math.max(1, ...buckets)
    g.clearRect(0, 0, c.width, c.height)
    g.fillStyle = '#4f7cff'
    const w = c.width / buckets.length
    buckets.forEach((n, i) => { const h = (n / max) * (c.height - 14); g.fillRect(i * w + 1, c.height - h, w - 2, h) })
    g.fillStyle = '#888'
    g.fillText(`${max} events/s (last 60 s)`, 4, 11)
  }
  setInterval(draw, 1000)
  draw()
  return { count: () => { roll(); buckets[buckets.length - 1]!++ } }
}
