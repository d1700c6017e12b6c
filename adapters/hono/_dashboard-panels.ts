/**
 * The dashboard script's admin panels (part of {@link dashboardScript}'s one closure): stats with
 * metrics and throughput, dead letters with redrive and discard, schedules with run-now, polled.
 *
 * @example
 * const script = core + flowScript + panelsScript + start
 */
export const panelsScript: string = String.raw`const handledHistory = new Map()

const throughput = (stat) => {
  if (typeof stat.handled !== 'number') return dash
  const now = Date.now()
  const history = handledHistory.get(stat.name) || { last: undefined, rates: [] }
  if (history.last) history.rates.push(Math.max(0, (stat.handled - history.last.handled) / ((now - history.last.at) / 1000)))
  if (history.rates.length > 30) history.rates.shift()
  history.last = { handled: stat.handled, at: now }
  handledHistory.set(stat.name, history)
  const current = history.rates.length ? history.rates[history.rates.length - 1] : 0
  const label = (Math.round(current * 10) / 10) + '/s'
  return el('span', { class: 'tp' }, sparkline(history.rates.length ? history.rates : [0], 80, 18, 'handled ' + label), ' ' + label)
}

const statRow = (stat) => {
  const duration = stat.duration && typeof stat.duration === 'object' ? stat.duration : {}
  return el('tr', { data: { sub: stat.name } },
    el('td', {}, stat.name), el('td', {}, count(stat.lag)), el('td', {}, count(stat.inFlight)), el('td', {}, count(stat.retrying)),
    el('td', { class: stat.deadLetters ? 'err' : '' }, count(stat.deadLetters)), el('td', {}, count(stat.handled)), el('td', {}, count(stat.failed)),
    el('td', {}, ms(duration.p50)), el('td', {}, ms(duration.p95)), el('td', {}, ms(duration.p99)), el('td', {}, ms(duration.max)),
    el('td', {}, typeof stat.lastHandledAt === 'number' ? relative(stat.lastHandledAt) : dash), el('td', {}, throughput(stat)))
}

const letterItem = (letter) => el('li', { data: { letter: letter.id, event: letter.event && letter.event.id } },
  el('div', {}, el('b', {}, letter.event && letter.event.type), ' in ', el('b', {}, letter.subscription), ' after ' + count(letter.attempts) + ' tries, ' + (typeof letter.failedAt === 'number' ? when(letter.failedAt) : '')),
  el('div', { class: 'err' }, (letter.error && letter.error.name ? letter.error.name + ': ' : '') + (letter.error ? letter.error.message : '')),
  el('details', {}, el('summary', {}, 'event ' + short(letter.event && letter.event.id)), el('pre', {}, JSON.stringify(letter.event, null, 2))),
  el('button', { type: 'button', data: { redrive: letter.id } }, 'redrive'), ' ',
  el('button', { type: 'button', data: { discard: letter.id } }, 'discard'))

const specText = (spec) => (spec.cron ? 'cron ' + spec.cron : spec.every ? 'every ' + spec.every / 1000 + ' s' : spec.at !== undefined ? 'once' : '') + (spec.timezone ? ' ' + spec.timezone : '')

const scheduleItem = (schedule) => el('li', { data: { schedule: schedule.name } },
  el('b', {}, schedule.name), ' ', el('code', {}, specText(schedule.spec || {})), ' → ', el('code', {}, schedule.spec && schedule.spec.type),
  el('div', { class: 'muted' }, 'next ', el('span', { class: 'next' }, when(schedule.nextAt)), schedule.lastFiredAt ? ' · last ' + when(schedule.lastFiredAt) : ''),
  el('button', { type: 'button', data: { run: schedule.name } }, 'run now'))

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
    for (const chip of document.querySelectorAll('button.chip')) chip.classList.toggle('on', chip.dataset.highlight === highlight && !button.classList.contains('on'))
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
