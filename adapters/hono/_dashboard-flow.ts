/**
 * The dashboard script's live flow (part of {@link dashboardScript}'s one closure): `GET /stream`
 * read with `fetch`, resumed after the last event seen, each event rendered under its cause.
 *
 * @example
 * const script = core + flowScript + panelsScript + start
 */
export const flowScript: string = String.raw`let streamAbort
let streamRun = 0
const setStatus = (text) => { const status = byId('stream-status'); status.textContent = text; status.dataset.state = text }
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
      // A cursor kept from another run of the bus (one in memory restarted): start from now instead.
      if (response.status === 400 && lastId && body && body.error && body.error.code === 'INVALID_CURSOR') { lastId = undefined; saveView(); return runStream() }
      access.flow = response.status === 403 ? false : access.flow
      showAccess()
      byId('flow-note').textContent = errorMessage(body, 'the stream answered ' + response.status)
      // Busy or failing: try again later. A refusal (a scope, a bad topic) waits for another topic.
      if (response.status !== 429 && response.status < 500) { setStatus('refused'); return }
      setStatus('retrying')
      setTimeout(() => { if (run === streamRun && !refused) runStream() }, 5000)
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
  const points = values.map((value, index) => (index * step).toFixed(1) + ',' + (height - 1 - (value / max) * (height - 2)).toFixed(1))
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

`
