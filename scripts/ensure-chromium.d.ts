// Types of ensure-chromium.js (plain JS so that `npm test` runs it with node before anything is built).

/** Where test/browser/vitest.config.ts launches Chromium from. */
export declare const CHROMIUM: string

/** What the machine offers: the decision's only inputs. */
export interface Machine {
  path: string
  /** Chromium is there and executable. */
  executable: boolean
  platform: string
  uid: number
  /** /usr/bin/apt-get is there. */
  aptGet: boolean
  /** `sudo -n true` succeeds (password-less sudo). */
  sudo: boolean
}

/** Nothing to do; install with apt-get (prefixed by `command`, e.g. `sudo -n`); or stop with one line. */
export type Plan =
  { action: 'ok' } | { action: 'install'; command: string[] } | { action: 'fail'; message: string }

/** @example decide({ path: CHROMIUM, executable: true, platform: 'linux', uid: 1000, aptGet: true, sudo: false }) // { action: 'ok' } */
export declare const decide: (machine: Machine) => Plan

/** @example process.exit(ensureChromium()) */
export declare const ensureChromium: (path?: string) => number
