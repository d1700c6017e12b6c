/** What the bridge reports. `pending` counts in every tab; the rest is the tab running the bridge's. */
export interface BridgeStatus {
  /**
   * The browser says it is online and the last request reached the server. Confirmed by a cheap
   * probe (`GET <url>/health`) when the bridge starts, on the `online` event, on `sync()`, and
   * after a failure nothing will retry (or the `offline` event), until one gets through, so it comes back even with nothing to send.
   */
  readonly online: boolean
  /** Local events matching `forward` the server has not confirmed yet. */
  readonly pending: number
  readonly lastError: Error | undefined
  /** When a request last succeeded (epoch ms). */
  readonly lastSyncAt: number | undefined
  /** This tab runs the sending half: it holds its Web Lock (the others wait in line). */
  readonly sending: boolean
  /** This tab holds the live stream from the server open. */
  readonly receiving: boolean
}

/** A bridge's status and its listeners (see {@link createStatus}). */
export interface StatusBox {
  readonly current: BridgeStatus
  /** Replaces the status with `patch` applied, and tells every listener. */
  update(patch: Partial<BridgeStatus>): void
  subscribe(listener: (status: BridgeStatus) => void): () => void
  /** Drops every listener. */
  clear(): void
}

/**
 * The status a bridge starts with (online as the browser says, nothing pending), and its listeners.
 *
 * @example
 * const status = createStatus()
 * status.update({ pending: 3 }) // listeners hear the new status
 */
export const createStatus = (): StatusBox => {
  let status: BridgeStatus = {
    online: navigator.onLine,
    pending: 0,
    lastError: undefined,
    lastSyncAt: undefined,
    sending: false,
    receiving: false,
  }
  const listeners = new Set<(s: BridgeStatus) => void>()
  return {
    get current() {
      return status
    },
    update(patch: Partial<BridgeStatus>) {
      status = { ...status, ...patch }
      for (const l of listeners) l(status)
    },
    subscribe(listener: (status: BridgeStatus) => void) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    clear() {
      listeners.clear()
    },
  }
}
