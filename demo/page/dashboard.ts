// The dashboard half of the demo page: it talks to the edge only through the HTTP app's routes
// (tidings/hono), so it shows any bus the same way.

export interface Api { base: string }

interface CloudEvent { id: string; type: string; time: string; correlationid?: string; causationid?: string; data?: unknown }
interface Stat { name: string; lag: number; inFlight: number; retrying: number; deadLetters: number; oldestAge: number }
interface Letter { id: string; subscription: string; event: CloudEvent; error: { message: string }; attempts: number }
interface Schedule { name: string; nextAt?: number; spec: { cron?: string; every?: number; at?: number; tz?: string; type: string } }

const $ = <T extends HTMLElement = HTMLElement>(sel: string) => document.querySelector<T>(sel)!
const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const call = async (api: Api, path: string, init?: RequestInit) => {
  const r = await fetch(api.base + path, init)
  const body = await r.json().catch(() => ({}))
  if (!r.ok) throw new Error(body?.error?.message ?? r.statusText)
  return body
}

/** The live stream over WebSocket, resumed from the last id after a drop; events grouped by correlation chain. */
export const liveStream = (api: Api, onEvent: (e: CloudEvent) => void) => {
  let last: string | undefined
  let stopped = false
  const connect = () => {
    const url = new URL(api.base + '/stream', location.href)
    url.protocol = url.protocol.replace('http', 'ws')
    if (last) url.searchParams.set('from', last)
    const ws = new WebSocket(url)
    ws.onmessage = (m) => { const f = JSON.parse(String(m.data)); last = f.id; onEvent(f.event) }
    ws.onclose = () => { if (!stopped) setTimeout(connect, 1000) }
    $('#stream-status').textContent = 'connecting'
    ws.onopen = () => { $('#stream-status').textContent = 'live' }
  }
  connect()
  return () => { stopped = true }
}

/** Renders one event into the stream list, indented under the event that caused it. */
export const renderEvent = (e: CloudEvent) => {
  const list = $('#stream')
  const li = document.createElement('li')
  li.dataset.type = e.type
  li.dataset.id = e.id
  const parent = e.causationid ? list.querySelector<HTMLElement>(`li[data-id="${CSS.escape(e.causationid)}"]`) : null
  const depth = parent ? Number(parent.dataset.depth ?? 0) + 1 : 0
  li.dataset.depth = String(depth)
  li.style.paddingLeft = `${depth * 1.2}rem`
  li.innerHTML = `<time>${esc(new Date(e.time).toLocaleTimeString())}</time> ${depth ? '↳ ' : ''}<b>${esc(e.type)}</b>` +
    ` <code title="correlation id">${esc((e.correlationid ?? e.id).slice(-8))}</code> <span>${esc(JSON.stringify(e.data)).slice(0, 80)}</span>`
  if (parent) parent.after(li)
  else list.prepend(li)
  while (list.children.length > 200) list.lastElementChild!.remove()
}

/** Events per second over the last minute, drawn on a canvas. */
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
    g.fillText(`${max}/s`, 2, 10)
  }
  setInterval(draw, 1000)
  return { count: () => { roll(); buckets[buckets.length - 1]!++ } }
}

/** Subscriptions, dead letters and schedules, refreshed every second. */
export const panels = (api: Api) => {
  const refresh = async () => {
    const [{ subscriptions }, letters, schedules] = await Promise.all([
      call(api, '/stats') as Promise<{ subscriptions: Stat[] }>,
      call(api, '/dead-letters') as Promise<Letter[]>,
      call(api, '/schedules') as Promise<Schedule[]>,
    ])
    $('#subs').innerHTML = subscriptions.map((s) =>
      `<tr data-sub="${esc(s.name)}"><td>${esc(s.name)}</td><td>${s.lag}</td><td>${s.inFlight}</td><td>${s.retrying}</td><td>${s.deadLetters}</td></tr>`).join('')
    $('#letters').innerHTML = letters.map((d) =>
      `<li data-letter="${esc(d.id)}"><b>${esc(d.event.type)}</b> in ${esc(d.subscription)} after ${d.attempts} tries: ${esc(d.error.message)}
       <button data-redrive="${esc(d.id)}">redrive</button> <button data-discard="${esc(d.id)}">discard</button></li>`).join('') || '<li class="none">none</li>'
    $('#schedules').innerHTML = schedules.map((s) =>
      `<li data-schedule="${esc(s.name)}"><b>${esc(s.name)}</b> ${esc(s.spec.cron ?? (s.spec.every ? `every ${s.spec.every / 1000}s` : 'once'))}${s.spec.tz ? ` (${esc(s.spec.tz)})` : ''}
       → ${esc(s.spec.type)}, next ${s.nextAt ? esc(new Date(s.nextAt).toLocaleTimeString()) : '—'} <button data-run="${esc(s.name)}">run now</button></li>`).join('')
  }
  document.addEventListener('click', async (ev) => {
    const b = (ev.target as HTMLElement).closest('button')
    if (!b) return
    const post = (path: string, method = 'POST') => call(api, path, { method, headers: { 'content-type': 'application/json' }, body: '{}' })
    if (b.dataset.redrive) await post(`/dead-letters/redrive?ids=${encodeURIComponent(b.dataset.redrive)}`)
    else if (b.dataset.discard) await post(`/dead-letters?ids=${encodeURIComponent(b.dataset.discard)}`, 'DELETE')
    else if (b.dataset.run) await post(`/schedules/${encodeURIComponent(b.dataset.run)}/run`)
    else return
    await refresh()
  })
  const tick = () => refresh().catch((e) => { $('#panel-error').textContent = String(e.message ?? e) })
  void tick()
  setInterval(tick, 1000)
}
