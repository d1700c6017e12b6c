// The browser side of the commands defined in vitest.config.ts (they run in Node).
import { commands } from 'vitest/browser'
import type { Knobs } from './_server.js'

type Log = {
  events: { id: string; type: string; data: unknown; key?: string }[]
  posts: number
  streams: number
  sentIds: string[]
}
declare module 'vitest/browser' {
  interface BrowserCommands {
    startServer(token: string): Promise<{ id: string; url: string }>
    setKnobs(id: string, knobs: Knobs): Promise<void>
    serverLog(id: string): Promise<Log>
    serverPublish(id: string, events: { type: string; data: unknown; id?: string }[]): Promise<void>
    stopServer(id: string): Promise<void>
    network(url: string, up: boolean): Promise<void>
  }
}

export const server = commands
