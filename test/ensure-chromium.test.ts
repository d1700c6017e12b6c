// `npm test` provisions Debian's Chromium for the browser project, or stops with one line saying
// what to install: never a run where the browser tests silently drop out.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CHROMIUM, decide, type Machine } from '../scripts/ensure-chromium.js'

const root = join(import.meta.dirname, '..')
const machine = (over: Partial<Machine>): Machine => ({
  path: CHROMIUM,
  executable: false,
  platform: 'linux',
  uid: 1000,
  aptGet: true,
  sudo: false,
  ...over,
})

describe('the decision', () => {
  it('does nothing when Chromium is there', () => {
    expect(decide(machine({ executable: true }))).toEqual({ action: 'ok' })
    expect(decide(machine({ executable: true, platform: 'darwin', aptGet: false }))).toEqual({
      action: 'ok',
    })
  })
  it('installs with apt-get as root on Debian', () => {
    expect(decide(machine({ uid: 0 }))).toEqual({ action: 'install', command: [] })
  })
  it('installs through password-less sudo, never a prompt', () => {
    expect(decide(machine({ sudo: true }))).toEqual({ action: 'install', command: ['sudo', '-n'] })
  })
  it('otherwise stops with one line that names what to install', () => {
    for (const m of [
      machine({}),
      machine({ uid: 0, aptGet: false }),
      machine({ uid: 0, platform: 'darwin', aptGet: false }),
    ]) {
      const plan = decide(m)
      expect(plan.action).toBe('fail')
      const message = (plan as { message: string }).message
      expect(message.split('\n')).toHaveLength(1)
      expect(message).toContain('/usr/bin/chromium')
      expect(message).toContain('apt-get install chromium')
    }
  })
})

describe('the script', () => {
  it('exits 0 silently when the browser is there', () => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'scripts/ensure-chromium.js'), process.execPath],
      { encoding: 'utf8' },
    )
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', ''])
  })
  it('runs first in npm test, before tsc and vitest, and vitest stays last (npm appends `npm test -- …` to it)', () => {
    const test = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { test: string } }
    ).scripts.test
    const steps = test.split('&&').map((s) => s.trim())
    expect(steps[0]).toBe('node scripts/ensure-chromium.js')
    expect(steps.at(-1)).toBe('vitest run')
  })
  it('leaves .ci/run no install step of its own beyond npm ci', () => {
    const ci = readFileSync(join(root, '.ci/run'), 'utf8')
    expect(ci).not.toMatch(/apt-get|sudo/)
    expect(ci).toContain('npm ci')
    expect(execFileSync('bash', ['-n', join(root, '.ci/run')], { encoding: 'utf8' })).toBe('')
  })
})
