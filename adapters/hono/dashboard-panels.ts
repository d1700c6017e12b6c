/**
 * The dashboard script's admin panels (part of {@link dashboardScript}'s one closure): stats with
 * metrics and throughput, dead letters with redrive and discard, schedules with run-now, polled.
 *
 * @example
 * const script = core + flowScript + panelsScript + start
 */
export const panelsScript: string = String.raw`const handledHistory = new Map()

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

`
