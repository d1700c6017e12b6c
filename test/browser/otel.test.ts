import { describe, it } from 'vitest'
import { createBus } from '../../src/bus.js'
import { chainedTrace, failedAttempt } from '../_otel.js'

describe('tidings/otel with the OpenTelemetry SDK, in Chromium', () => {
  it('one trace runs from a producer span through a chained event, with the messaging attributes', () =>
    chainedTrace((options) => createBus(options)))
  it('a failed attempt records the exception and sets status ERROR; its retry is a span of its own', () =>
    failedAttempt((options) => createBus(options)))
})
