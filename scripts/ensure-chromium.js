// Run by `npm test` before vitest: the browser project runs in Debian's Chromium at
// /usr/bin/chromium (never a downloaded browser). Without it the browser tests would fail to
// launch, so this provisions it when it can (apt-get, as root or with password-less sudo) and
// otherwise stops npm test with one line that says what to install.
import { accessSync, constants } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'

/** Where test/browser/vitest.config.ts launches Chromium from. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * What to do, from what the machine offers (injected, so the decision is tested without one).
 *
 * @example
 * decide({ path: '/usr/bin/chromium', executable: false, platform: 'linux', uid: 0, aptGet: true, sudo: false })
 * // { action: 'install', command: [] }
 */
export const decide = ({ path, executable, platform, uid, aptGet, sudo }) => {
  if (executable) return { action: 'ok' }
  const hint = `npm test needs Chromium at ${path} for the browser tests: install Debian's chromium (sudo apt-get install chromium), then run npm test again.`
  if (platform !== 'linux' || !aptGet) return { action: 'fail', message: hint }
  if (uid === 0) return { action: 'install', command: [] }
  if (sudo) return { action: 'install', command: ['sudo', '-n'] }
  return { action: 'fail', message: hint }
}

const isExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}
const succeeds = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0

/** Looks at this machine, then provisions or explains; resolves the exit code. */
export const ensureChromium = (path = CHROMIUM) => {
  const executable = isExecutable(path)
  const aptGet = !executable && isExecutable('/usr/bin/apt-get')
  const uid = process.getuid?.() ?? -1
  const plan = decide({
    path,
    executable,
    platform: process.platform,
    uid,
    aptGet,
    // Only asked when it matters: `sudo -n` never prompts, it fails without a password-less rule.
    sudo: !executable && aptGet && uid !== 0 && succeeds('sudo', ['-n', 'true']),
  })
  if (plan.action === 'ok') return 0
  if (plan.action === 'fail') {
    console.error(plan.message)
    return 1
  }
  console.error(
    `npm test: ${path} is missing; installing Debian's chromium with apt-get for the browser tests…`,
  )
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const run = (args) => {
    const [cmd, ...rest] = [...plan.command, ...args]
    return spawnSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0
  }
  if (
    run(['apt-get', 'update', '-qq']) &&
    run(['apt-get', 'install', '-y', '-qq', 'chromium']) &&
    isExecutable(path)
  )
    return 0
  console.error(
    `npm test: installing chromium with apt-get failed; install it by hand (sudo apt-get install chromium) so that ${path} exists, then run npm test again.`,
  )
  return 1
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exit(ensureChromium(process.argv[2]))
