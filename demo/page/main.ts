// The demo page: the shop (IndexedDB + bridge), the payment buttons, and the dashboard over the
// edge (live sockets, admin panels, throughput chart).
import type { BusEvent } from 'tidings'
import { SHARDS } from '../shared.js'
import { throughput } from './chart.js'
import { $ } from './dom.js'
import { loadHistory } from './history.js'
import { liveEvents } from './live.js'
import { offlineSwitch } from './offline.js'
import { startPanels } from './panels.js'
import { startPayments } from './payments.js'
import { markFrom, startShop } from './shop.js'
import { renderEvent } from './stream.js'

const { sync } = startShop()
const network = offlineSwitch(() => sync.sync())
// The pill follows real connectivity: the browser's own online/offline, and whether the edge
// answered the panels' last poll (every second, in every tab; the bridge's status would do only
// in the one tab that runs its sending and receiving halves). The switch says why it is offline.
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

startPayments()
startPanels((answered) => {
  edgeAnswered = answered
  showNet()
})

const chart = throughput()
const startLive = () =>
  liveEvents(
    SHARDS,
    (e: BusEvent) => {
      chart.count()
      renderEvent(e)
      // Live from the edge: 'at the edge' shows here first; the others also arrive through the bridge.
      markFrom(e)
    },
    (open, of) => {
      $('#stream-status').textContent = open === of ? 'live' : `${open}/${of} shards`
    },
  )
// The latest events from the log first (a reload starts with what happened), then the sockets;
// an event both bring is shown once (renderEvent skips an id on screen). The chart counts only live ones.
void loadHistory()
  .then((events) => {
    for (const e of events) renderEvent(e)
  })
  .catch((e: Error) => {
    $('#panel-error').textContent = `history: ${e.message}`
  })
  .finally(startLive)
