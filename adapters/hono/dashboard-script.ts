/**
 * The dashboard's script, shipped inline in the page (no build step, no CDN). Plain browser
 * JavaScript in a string: the adapter is compiled without DOM types, and the page must run as
 * served. Every piece of bus data reaches the DOM as text (`textContent`, `append(string)`,
 * attribute values), never as markup, so an event carrying `<img onerror>` shows as those characters.
 *
 * It calls the app's own routes, relative to the page (`/bus/dashboard` calls `/bus/stats`), with
 * the tab's token as `Authorization: Bearer`. The live flow reads `GET /stream` with `fetch` rather
 * than `EventSource`, so the token travels in a header (not in a URL that logs keep) and a refusal
 * arrives with its status (401 or 403) and message instead of an anonymous error event.
 *
 * @example
 * const html = `<script nonce="${nonce}">${dashboardScript}</script>`
 */
export const dashboardScript = String.raw`(() => {
'use strict'
const TOKEN_KEY = 'tidings.dashboard.token'
const VIEW_KEY = 'tidings.dashboard.view'
const POLL_MS = 2000
const KEEP = 200
const SVG = 'http://www.w3.org/2000/svg'
const base = new URL('.', location.href)
const byId = (id) => document.getElementById(id)
let token = sessionStorage.getItem(TOKEN_KEY) || ''
// The bus refused the token: nothing is called until the user gives another.
let refused = false
let polling
const saved = (() => { try { return JSON.parse(sessionStorage.getItem(VIEW_KEY) || '{}') } catch { return {} } })()
let topic = typeof saved.topic === 'string' && saved.topic ? saved.topic : '**'
let lastId = typeof saved.lastId === 'string' ? saved.lastId : undefined
let shown = Array.isArray(saved.events) ? saved.events : []
const access = { flow: undefined, admin: undefined }

/** An element with text children only: strings become text nodes, never markup. */
const el = (tag, props, ...children) => {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue
    if (key === 'class') node.className = value
    else if (key === 'data') { for (const [name, v] of Object.entries(value)) if (v !== undefined && v !== null) node.dataset[name] = String(v) }
    else if (key === 'title') node.title = String(value)
    else node.setAttribute(key, String(value))
  }
  for (const child of children) if (child !== undefined && child !== null && child !== false) node.append(typeof child === 'object' ? child : String(child))
  return node
}
const errorMessage = (body, fallback) => (body && body.error && typeof body.error.message === 'string' ? body.error.message : fallback)
const dash = '—'
const count = (v) => (typeof v === 'number' ? String(v) : dash)
const ms = (v) => (typeof v === 'number' ? (v < 10 ? v.toFixed(1) : String(Math.round(v))) + ' ms' : dash)
const clock = (t) => new Date(t).toLocaleTimeString()
const relative = (t) => {
  const s = Math.round((t - Date.now()) / 1000), a = Math.abs(s)
  if (a < 2) return 'now'
  const span = a < 90 ? a + ' s' : a < 5400 ? Math.round(a / 60) + ' min' : Math.round(a / 3600) + ' h'
  return s >= 0 ? 'in ' + span : span + ' ago'
}
const when = (t) => (typeof t === 'number' ? clock(t) + ' (' + relative(t) + ')' : dash)
const notice = (text, isError) => { const n = byId('notice'); n.textContent = text; n.className = isError ? 'err' : 'ok' }

class Refused extends Error {}

/** One call to the app; a 401 stops everything and asks for a token. */
const call = async (method, path) => {
  if (refused) throw new Refused('refused')
  const headers = { accept: 'application/json' }
  if (token) headers.authorization = 'Bearer ' + token
  const response = await fetch(new URL(path, base), { method, headers, cache: 'no-store' })
  const body = await response.json().catch(() => undefined)
  if (response.status === 401) { refuse(body); throw new Refused('refused') }
  return { ok: response.ok, status: response.status, body }
}

const showAccess = () => {
  const parts = []
  if (access.flow === true) parts.push('events on ' + topic)
  if (access.flow === false) parts.push('no events on ' + topic)
  if (access.admin === true) parts.push('admin routes')
  if (access.admin === false) parts.push('no admin routes')
  byId('access').textContent = parts.length ? 'this token sees: ' + parts.join(', ') : ''
  byId('who').textContent = token ? 'token set for this tab' : access.flow || access.admin ? 'no token needed' : 'no token'
}

const refuse = (body) => {
  refused = true
  stopStream()
  setStatus('refused')
  byId('auth').hidden = false
  byId('auth-message').textContent = token
    ? 'The bus refused this token: ' + errorMessage(body, 'unknown token') + '. Enter another.'
    : 'This bus needs a token (' + errorMessage(body, 'a bearer token is required') + ').'
  byId('token').focus()
  showAccess()
}

byId('auth').addEventListener('submit', (event) => {
  event.preventDefault()
  token = byId('token').value.trim()
  byId('token').value = ''
  sessionStorage.setItem(TOKEN_KEY, token)
  refused = false
  byId('auth').hidden = true
  access.flow = access.admin = undefined
  start()
})
byId('change-token').addEventListener('click', () => { byId('auth').hidden = false; byId('auth-message').textContent = 'Enter a token for this tab.'; byId('token').focus() })

// ---- the live flow ----
let streamAbort
let streamRun = 0
const setStatus = (text) => { const s = byId('stream-status'); s.textContent = text; s.dataset.state = text }
const stopStream = () => { streamRun++; if (streamAbort) streamAbort.abort(); streamAbort = undefined }
let saveTimer
const saveView = () => {
  clearTimeout(saveTimer)
  saveTimer = setTimeout(() => { try { sessionStorage.setItem(VIEW_KEY, JSON.stringify({ topic, lastId, events: shown.slice(-KEEP) })) } catch {} }, 300)
}

const runStream = async () => {
  stopStream()
  const run = streamRun
  const abort = new AbortController()
  streamAbort = abort
  setStatus('connecting')
  const headers = { accept: 'text/event-stream' }
  if (token) headers.authorization = 'Bearer ' + token
  const query = 'stream?topic=' + encodeURIComponent(topic) + (lastId ? '&from=' + encodeURIComponent(lastId) : '')
  try {
    const response = await fetch(new URL(query, base), { headers, signal: abort.signal, cache: 'no-store' })
    if (response.status === 401) { refuse(await response.json().catch(() => undefined)); return }
    if (!response.ok) {
      const body = await response.json().catch(() => undefined)
      access.flow = response.status === 403 ? false : access.flow
      showAccess()
      setStatus('refused')
      byId('flow-note').textContent = errorMessage(body, 'the stream answered ' + response.status)
      return
    }
    access.flow = true
    showAccess()
    byId('flow-note').textContent = ''
    setStatus('live')
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done || run !== streamRun) break
      buffer += value
      const blocks = buffer.split(/\r?\n\r?\n/)
      buffer = blocks.pop()
      for (const block of blocks) {
        let id, data = []
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith('id:')) id = line.slice(3).trim()
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
        }
        if (!data.length) continue
        try { received(JSON.parse(data.join('\n')), id) } catch (error) { console.error('tidings dashboard:', error) }
      }
    }
  } catch (error) {
    if (abort.signal.aborted) return
  }
  if (run !== streamRun || refused) return
  // Closed by the server (a slow client cut off, a restart): resume after the last event seen.
  setStatus('reconnecting')
  setTimeout(() => { if (run === streamRun && !refused) runStream() }, 1000)
}

const rate = new Array(60).fill(0)
setInterval(() => { rate.shift(); rate.push(0); drawRate() }, 1000)

const received = (event, id) => {
  if (id) lastId = id
  rate[rate.length - 1]++
  if (render(event)) { shown.push(event); if (shown.length > KEEP) shown = shown.slice(-KEEP) }
  saveView()
}

const short = (id) => (String(id).length > 14 ? '…' + String(id).slice(-12) : String(id))

/** One event, under the event that caused it when that is on screen; false when already shown. */
const render = (event) => {
  const list = byId('events')
  if (typeof event !== 'object' || event === null || list.querySelector('li[data-id="' + CSS.escape(String(event.id)) + '"]')) return false
  list.querySelector('li.none')?.remove()
  const cause = typeof event.causationid === 'string' ? event.causationid : undefined
  const parent = cause ? list.querySelector('li[data-id="' + CSS.escape(cause) + '"]') : null
  const depth = parent ? Number(parent.dataset.depth || 0) + 1 : 0
  const correlation = typeof event.correlationid === 'string' ? event.correlationid : undefined
  const data = event.data === undefined ? '' : JSON.stringify(event.data)
  const li = el('li', { data: { id: event.id, type: event.type, cause, correlation, depth } },
    el('time', { datetime: event.time }, event.time ? clock(Date.parse(event.time)) : ''), ' ',
    depth ? '↳ ' : '', el('b', {}, event.type), ' ',
    el('code', { class: 'id', title: 'id ' + event.id }, short(event.id)),
    cause && !parent ? el('span', { class: 'muted', title: 'caused by ' + cause }, ' caused by ' + short(cause)) : '',
    correlation ? el('button', { type: 'button', class: 'chip', title: 'correlation ' + correlation + ': highlight the chain', data: { highlight: correlation } }, 'chain ' + short(correlation)) : '',
    el('div', { class: 'data' }, data.length > 240 ? data.slice(0, 240) + '…' : data))
  li.style.paddingLeft = Math.min(depth, 8) * 1.1 + 'rem'
  if (parent) {
    // After the cause's last descendant, so siblings keep their arrival order.
    let after = parent
    while (after.nextElementSibling && Number(after.nextElementSibling.dataset.depth) >= depth) after = after.nextElementSibling
    after.after(li)
  } else list.prepend(li)
  while (list.children.length > KEEP) list.lastElementChild.remove()
  return true
}

const sparkline = (values, width, height, label) => {
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height)
  svg.setAttribute('width', String(width))
  svg.setAttribute('height', String(height))
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', label)
  const max = Math.max(1, ...values)
  const step = width / Math.max(1, values.length - 1)
  const points = values.map((v, i) => (i * step).toFixed(1) + ',' + (height - 1 - (v / max) * (height - 2)).toFixed(1))
  const area = document.createElementNS(SVG, 'polygon')
  area.setAttribute('points', '0,' + height + ' ' + points.join(' ') + ' ' + width + ',' + height)
  area.setAttribute('class', 'area')
  const line = document.createElementNS(SVG, 'polyline')
  line.setAttribute('points', points.join(' '))
  line.setAttribute('class', 'line')
  svg.append(area, line)
  return svg
}

const drawRate = () => {
  const complete = rate.slice(-11, -1)
  const average = complete.reduce((a, b) => a + b, 0) / complete.length
  const peak = Math.max(...rate)
  const label = (Math.round(average * 10) / 10) + ' events/s' + (peak ? ' · peak ' + peak + '/s in the last 60 s' : '')
  byId('rate').replaceChildren(sparkline(rate, 300, 36, label))
  byId('rate-label').textContent = label
}

byId('filter').addEventListener('submit', (event) => {
  event.preventDefault()
  topic = byId('topic').value.trim() || '**'
  shown = []
  byId('events').replaceChildren(el('li', { class: 'none' }, 'waiting for events on ' + topic))
  saveView()
  if (!refused) runStream()
})

// ---- the admin panels: stats, dead letters, schedules ----
const handledHistory = new Map()

const throughput = (s) => {
  if (typeof s.handled !== 'number') return dash
  const now = Date.now()
  const h = handledHistory.get(s.name) || { last: undefined, rates: [] }
  if (h.last) h.rates.push(Math.max(0, (s.handled - h.last.handled) / ((now - h.last.at) / 1000)))
  if (h.rates.length > 30) h.rates.shift()
  h.last = { handled: s.handled, at: now }
  handledHistory.set(s.name, h)
  const current = h.rates.length ? h.rates[h.rates.length - 1] : 0
  const label = (Math.round(current * 10) / 10) + '/s'
  return el('span', { class: 'tp' }, sparkline(h.rates.length ? h.rates : [0], 80, 18, 'handled ' + label), ' ' + label)
}

const statRow = (s) => {
  const d = s.duration && typeof s.duration === 'object' ? s.duration : {}
  return el('tr', { data: { sub: s.name } },
    el('td', {}, s.name), el('td', {}, count(s.lag)), el('td', {}, count(s.inFlight)), el('td', {}, count(s.retrying)),
    el('td', { class: s.deadLetters ? 'err' : '' }, count(s.deadLetters)), el('td', {}, count(s.handled)), el('td', {}, count(s.failed)),
    el('td', {}, ms(d.p50)), el('td', {}, ms(d.p95)), el('td', {}, ms(d.p99)), el('td', {}, ms(d.max)),
    el('td', {}, typeof s.lastHandledAt === 'number' ? relative(s.lastHandledAt) : dash), el('td', {}, throughput(s)))
}

const letterItem = (d) => el('li', { data: { letter: d.id, event: d.event && d.event.id } },
  el('div', {}, el('b', {}, d.event && d.event.type), ' in ', el('b', {}, d.subscription), ' after ' + count(d.attempts) + ' tries, ' + (typeof d.failedAt === 'number' ? when(d.failedAt) : '')),
  el('div', { class: 'err' }, (d.error && d.error.name ? d.error.name + ': ' : '') + (d.error ? d.error.message : '')),
  el('details', {}, el('summary', {}, 'event ' + short(d.event && d.event.id)), el('pre', {}, JSON.stringify(d.event, null, 2))),
  el('button', { type: 'button', data: { redrive: d.id } }, 'redrive'), ' ',
  el('button', { type: 'button', data: { discard: d.id } }, 'discard'))

const specText = (spec) => (spec.cron ? 'cron ' + spec.cron : spec.every ? 'every ' + spec.every / 1000 + ' s' : spec.at !== undefined ? 'once' : '') + (spec.timezone ? ' ' + spec.timezone : '')

const scheduleItem = (s) => el('li', { data: { schedule: s.name } },
  el('b', {}, s.name), ' ', el('code', {}, specText(s.spec || {})), ' → ', el('code', {}, s.spec && s.spec.type),
  el('div', { class: 'muted' }, 'next ', el('span', { class: 'next' }, when(s.nextAt)), s.lastFiredAt ? ' · last ' + when(s.lastFiredAt) : ''),
  el('button', { type: 'button', data: { run: s.name } }, 'run now'))

/** Fills a panel, or says why this token may not see it. */
const panel = (id, reply, fill) => {
  const note = document.querySelector('#' + id + ' .note')
  if (reply.ok) { note.textContent = ''; fill(reply.body); return true }
  note.textContent = reply.status === 403 ? 'This token may not see this: ' + errorMessage(reply.body, 'forbidden') : errorMessage(reply.body, 'answered ' + reply.status)
  return false
}

const refresh = async () => {
  try {
    const [stats, letters, schedules] = await Promise.all([call('GET', 'stats'), call('GET', 'dead-letters'), call('GET', 'schedules')])
    access.admin = stats.ok || letters.ok || schedules.ok ? true : stats.status === 403 ? false : access.admin
    showAccess()
    panel('subscriptions', stats, (body) => byId('subs').replaceChildren(...(body.subscriptions.length ? body.subscriptions.map(statRow) : [el('tr', {}, el('td', { class: 'none' }, 'none'))])))
    panel('dead-letters', letters, (body) => byId('letters').replaceChildren(...(body.length ? body.map(letterItem) : [el('li', { class: 'none' }, 'none')])))
    panel('schedules', schedules, (body) => byId('schedule-list').replaceChildren(...(body.length ? body.map(scheduleItem) : [el('li', { class: 'none' }, 'none')])))
  } catch (error) {
    if (!(error instanceof Refused)) notice('the bus did not answer: ' + error.message, true)
  }
}

document.addEventListener('click', async (event) => {
  const button = event.target.closest('button')
  if (!button) return
  const { redrive, discard, run, highlight } = button.dataset
  if (highlight !== undefined) {
    for (const li of byId('events').children) li.classList.toggle('chain', li.dataset.correlation === highlight && !button.classList.contains('on'))
    for (const b of document.querySelectorAll('button.chip')) b.classList.toggle('on', b.dataset.highlight === highlight && !button.classList.contains('on'))
    return
  }
  let reply, done
  try {
    if (redrive !== undefined) { reply = await call('POST', 'dead-letters/redrive?ids=' + encodeURIComponent(redrive)); done = 'redriven' }
    else if (discard !== undefined) { reply = await call('DELETE', 'dead-letters?ids=' + encodeURIComponent(discard)); done = 'discarded' }
    else if (run !== undefined) { reply = await call('POST', 'schedules/' + encodeURIComponent(run) + '/run'); done = 'fired ' + run }
    else return
  } catch (error) {
    if (!(error instanceof Refused)) notice(error.message, true)
    return
  }
  if (reply.ok) notice(done + (reply.body && reply.body.id ? ': ' + reply.body.id : reply.body && typeof reply.body.count === 'number' ? ' (' + reply.body.count + ')' : ''), false)
  else notice(errorMessage(reply.body, 'answered ' + reply.status), true)
  refresh()
})

const start = () => {
  showAccess()
  refresh()
  runStream()
  clearInterval(polling)
  polling = setInterval(() => { if (!refused) refresh() }, POLL_MS)
}

byId('topic').value = topic
for (const event of shown) render(event)
if (!shown.length) byId('events').replaceChildren(el('li', { class: 'none' }, 'waiting for events on ' + topic))
drawRate()
start()
})()
`
