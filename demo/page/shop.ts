// The shop: a bus over IndexedDB in the browser. Orders are local events first; the bridge's
// outbox sends them to the edge when the network allows, and every tab sees them (the store's
// BroadcastChannel), so the order list is shared and survives reloads.
import { createBus, type BusEvent } from 'tidings'
import { bridge, indexedDBStore, type BridgeStatus } from 'tidings/indexeddb'
import type { DemoEvents, Order } from '../shared.js'
import { $, esc } from './dom.js'

const PRODUCTS = [
  { sku: 'mug', name: 'Mug', price: 12 },
  { sku: 'tee', name: 'T-shirt', price: 25 },
  { sku: 'cap', name: 'Cap', price: 18 },
]

/** Starts the shop: its bus, the bridge to the edge at this origin, the product buttons and the order list. */
export const startShop = () => {
  const store = indexedDBStore({ name: 'tidings-demo-shop' })
  const bus = createBus<DemoEvents>({ store, source: 'shop' })
  // Orders go out; what the edge does about them comes back into this browser's log (the bridge's
  // receiving half), so the marks next to each order survive a reload and show in every tab.
  const sync = bridge(bus, {
    store,
    url: location.origin,
    forward: 'order.**',
    receive: '**',
    backoff: { initial: 300, max: 3000 },
  })

  const list = $('#orders')
  const render = (e: BusEvent<'order.placed', Order>) => {
    if (list.querySelector(`li[data-event="${CSS.escape(e.id)}"]`)) return
    const li = document.createElement('li')
    li.dataset.event = e.id
    li.dataset.order = e.data.id
    li.innerHTML =
      `<b>${esc(e.data.id)}</b> ${esc(e.data.items.map((i) => i.sku).join(', '))} · ${e.data.total} € · ${esc(e.data.email)}` +
      ` <span class="muted">${esc(new Date(e.time).toLocaleTimeString())}</span> <span class="marks"></span>`
    list.prepend(li)
  }
  const show = (e: BusEvent) => {
    if (e.type === 'order.placed') render(e as BusEvent<'order.placed', Order>)
    else markFrom(e)
  }
  bus.on('**', show)
  const history = async () => {
    for (let from: string | undefined; ;) {
      const page = await bus.read({ limit: 500, ...(from ? { from } : {}) })
      for (const e of page.events) show(e)
      if (page.events.length < 500) return
      from = page.next
    }
  }
  void history()

  $('#products').innerHTML = PRODUCTS.map(
    (p) => `<button data-buy="${p.sku}">Buy ${esc(p.name)} · ${p.price} €</button>`,
  ).join('')
  $('#products').addEventListener('click', (ev) => {
    const sku = (ev.target as HTMLElement).closest('button')?.dataset.buy
    const product = PRODUCTS.find((p) => p.sku === sku)
    if (!product) return
    const id = `o-${crypto.randomUUID().slice(0, 8)}`
    const email = $<HTMLInputElement>('#email').value || 'ada@example.com'
    void bus
      .publish(
        'order.placed',
        { id, email, items: [{ sku: product.sku, qty: 1 }], total: product.price },
        { key: id },
      )
      .catch((e: Error) => {
        $('#bridge-error').textContent = e.message
      })
  })

  const status = (s: BridgeStatus) => {
    $('#pending').textContent = String(s.pending)
    $('#synced').textContent = s.lastSyncAt ? new Date(s.lastSyncAt).toLocaleTimeString() : 'never'
    $('#sender').textContent = s.sending ? 'this tab' : 'another tab'
    $('#bridge-error').textContent =
      s.online || !s.lastError ? '' : `outbox waiting: ${s.lastError.message}`
  }
  sync.subscribe(status)
  status(sync.status)
  return { bus, sync }
}

/** What the edge says about an order, shown next to it in the shop. */
export const MARKS: Record<string, string> = {
  'order.placed': 'at the edge',
  'inventory.reserved': 'reserved',
  'email.sent': 'mailed',
  'payment.processed': 'paid',
}

/** Marks the order an edge event is about (the event's `order`, or the order itself). */
export const markFrom = (e: BusEvent) => {
  const mark = MARKS[e.type]
  const data = e.data as { id?: string; order?: string }
  const order = e.type === 'order.placed' ? data.id : data.order
  if (mark && order) markOrder(order, mark)
}

/** Marks an order in the list when the edge reports on it (seen at the edge, reserved, mailed, paid). */
export const markOrder = (orderId: string, mark: string) => {
  const li = document.querySelector<HTMLElement>(`#orders li[data-order="${CSS.escape(orderId)}"]`)
  const marks = li?.querySelector('.marks')
  if (!marks || marks.textContent!.includes(mark)) return
  marks.textContent += ` ✓ ${mark}`
}
