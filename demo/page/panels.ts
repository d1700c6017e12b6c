// The edge's admin panels, through the HTTP app's routes (tidings/hono): subscriptions with their
// counts, dead letters with redrive and discard, schedules with run-now. Refreshed every second.
import { $, esc } from './dom.js'

interface Stat {
  name: string
  lag: number
  inFlight: number
  retrying: number
  deadLetters: number
}
interface Letter {
  id: string
  subscription: string
  event: { id: string; type: string; data?: unknown }
  error: { message: string }
  attempts: number
}
interface Schedule {
  name: string
  nextAt?: number
  lastFiredAt?: number
  spec: { cron?: string; every?: number; timezone?: string; type: string }
}

const call = async <T>(path: string, init?: RequestInit): Promise<T> => {
  const r = await fetch(path, init)
  const body = await r.json().catch(() => ({}))
  if (!r.ok) throw new Error(body?.error?.message ?? r.statusText)
  return body as T
}

/** Starts the panels; `onPoll` hears whether each refresh reached the edge. */
export const startPanels = (onPoll: (reached: boolean) => void = () => {}) => {
  const refresh = async () => {
    const [{ subscriptions }, letters, schedules] = await Promise.all([
      call<{ subscriptions: Stat[] }>('/stats'),
      call<Letter[]>('/dead-letters'),
      call<Schedule[]>('/schedules'),
    ])
    $('#subs').innerHTML = subscriptions
      .map(
        (s) =>
          `<tr data-sub="${esc(s.name)}"><td>${esc(s.name)}</td><td>${s.lag}</td><td>${s.inFlight}</td><td>${s.retrying}</td><td>${s.deadLetters}</td></tr>`,
      )
      .join('')
    $('#letters').innerHTML =
      letters
        .map(
          (d) =>
            `<li data-letter="${esc(d.id)}" data-event="${esc(d.event.id)}"><b>${esc(d.event.type)}</b> in ${esc(d.subscription)} after ${d.attempts} tries: <span class="err">${esc(d.error.message)}</span>
       <button data-redrive="${esc(d.id)}">redrive</button> <button data-discard="${esc(d.id)}">discard</button></li>`,
        )
        .join('') || '<li class="none">none</li>'
    $('#schedules').innerHTML =
      schedules
        .map(
          (s) =>
            `<li data-schedule="${esc(s.name)}"><b>${esc(s.name)}</b> <code>${esc(s.spec.cron ?? (s.spec.every ? `every ${s.spec.every / 1000}s` : 'once'))}</code> → ${esc(s.spec.type)},
       next <span class="next">${s.nextAt ? esc(new Date(s.nextAt).toLocaleTimeString()) : '—'}</span> <button data-run="${esc(s.name)}">run now</button></li>`,
        )
        .join('') || '<li class="none">none</li>'
    $('#panel-error').textContent = ''
  }
  // An HTTP error still reached the edge; only a failed fetch (a TypeError) means it did not.
  const tick = () =>
    refresh().then(
      () => onPoll(true),
      (e: Error) => {
        onPoll(!(e instanceof TypeError))
        $('#panel-error').textContent = e.message
      },
    )
  document.addEventListener('click', async (ev) => {
    const b = (ev.target as HTMLElement).closest('button')
    if (!b) return
    const { redrive, discard, run } = b.dataset
    try {
      if (redrive)
        await call(`/dead-letters/redrive?ids=${encodeURIComponent(redrive)}`, { method: 'POST' })
      else if (discard)
        await call(`/dead-letters?ids=${encodeURIComponent(discard)}`, { method: 'DELETE' })
      // The external-scheduler endpoint: what a scheduler outside Cloudflare would call.
      else if (run) await call(`/schedules/${encodeURIComponent(run)}/run`, { method: 'POST' })
      else return
    } catch (e) {
      $('#panel-error').textContent = (e as Error).message
    }
    await tick()
  })
  void tick()
  setInterval(tick, 1000)
}
