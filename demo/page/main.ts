// The demo page: the shop (IndexedDB + bridge), the payment buttons, the shop's own live marks
// (one socket per shard), and the edge's dashboard: busApp's `GET /dashboard`, framed.
import type { BusEvent } from 'tidings'
import { SHARDS } from '../shared.js'
import { $ } from './dom.js'
import { liveEvents } from './live.js'
import { offlineSwitch } from './offline.js'
import { startPayments } from './payments.js'
import { markFrom, startShop } from './shop.js'

const { sync } = startShop()
const network = offlineSwitch(() => sync.sync())
// The pill follows real connectivity: the browser's own online/offline, and whether the edge
// answered the last health check (every 2 s, in every tab; the bridge's status would do only in
// the one tab that runs its sending and receiving halves). The switch says why it is offline.
let edgeAnswered = true
const showNet = () => {
  const online = !network.offline && navigator.onLine && edgeAnswered
  const net = $('#net')
  net.textContent = network.offline ? 'offline (simulated)' : online ? 'online' : 'offline'
  net.className = `pill ${online ? 'online' : 'offline'}`
}
$<HTMLInputElement>('#offline').addEventListener('change', (ev) => {
  network.set((ev.target as HTMLInputElement).checked)
  showNet()
})
addEventListener('online', showNet)
addEventListener('offline', showNet)
showNet()
const checkEdge = () =>
  fetch('/health', { cache: 'no-store' })
    .then(
      (r) => r.ok,
      () => false,
    )
    .then((answered) => {
      edgeAnswered = answered
      showNet()
    })
void checkEdge()
setInterval(checkEdge, 2000)

startPayments()

// Live from the edge: 'at the edge' shows here first; the others also arrive through the bridge.
liveEvents(
  SHARDS,
  (e: BusEvent) => markFrom(e),
  (open, of) => {
    $('#stream-status').textContent = open === of ? 'live' : `${open}/${of} shards`
  },
)
