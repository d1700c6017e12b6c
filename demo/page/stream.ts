// The live event list: each event under the event that caused it, so a correlation chain
// (order.placed ↳ inventory.reserved, ↳ email.sent) reads top to bottom.
import type { BusEvent } from 'tidings'
import { $, esc } from './dom.js'

/** Renders one event into the stream, indented under its cause when that is on screen. */
export const renderEvent = (e: BusEvent) => {
  const list = $('#stream')
  if (list.querySelector(`li[data-id="${CSS.escape(e.id)}"]`)) return
  const li = document.createElement('li')
  li.dataset.type = e.type
  li.dataset.id = e.id
  if (e.causationId) li.dataset.cause = e.causationId
  const parent = e.causationId
    ? list.querySelector<HTMLElement>(`li[data-id="${CSS.escape(e.causationId)}"]`)
    : null
  const depth = parent ? Number(parent.dataset.depth ?? 0) + 1 : 0
  li.dataset.depth = String(depth)
  li.style.paddingLeft = `${depth * 1.2}rem`
  li.innerHTML =
    `<time>${esc(new Date(e.time).toLocaleTimeString())}</time> ${depth ? '↳ ' : ''}<b>${esc(e.type)}</b>` +
    ` <code title="correlation id">${esc((e.correlationId ?? e.id).slice(-8))}</code> <span>${esc(JSON.stringify(e.data).slice(0, 90))}</span>`
  if (parent) {
    // After the cause's last descendant on screen, so siblings keep their arrival order.
    let after: Element = parent
    while (
      after.nextElementSibling &&
      Number((after.nextElementSibling as HTMLElement).dataset.depth) >= depth
    )
      after = after.nextElementSibling
    after.after(li)
  } else list.prepend(li)
  while (list.children.length > 300) list.lastElementChild!.remove()
}
