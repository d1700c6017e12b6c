// instrument(): the tracing hooks of any library (not only OpenTelemetry's) made into the
// instrumentation a bus takes, the publish wrapper included; the bus itself carries none.
import { describe, expect, it } from 'vitest'
import { createBus, instrument, type Instrumentation } from '../src/index.js'

const PARENT = '00-0af7651916cd43dd8447eb1fd7c8f7aa-b7ad6b7169203331-01'

describe('instrument', () => {
  it("runs each publish under a custom publish hook: called at once, the span's traceparent on the event, ended with the id", async () => {
    const calls: unknown[] = []
    const instrumentation = instrument({
      publish: (type, traceparent) => {
        calls.push(['start', type, traceparent])
        return { traceparent: PARENT, end: (result) => calls.push(['end', type, result]) }
      },
    })
    const bus = createBus({ instrumentation })
    const published = bus.publish('order.placed', { total: 1 })
    // Synchronous: the hook ran inside publish, where the caller's active span still is.
    expect(calls).toEqual([['start', 'order.placed', undefined]])
    const { id } = await published
    expect(calls).toEqual([
      ['start', 'order.placed', undefined],
      ['end', 'order.placed', { id }],
    ])
    const { events } = await bus.read()
    expect(events[0]!.traceparent).toBe(PARENT)
    await bus.close()
  })

  it('ends the span of a refused publish with its error', async () => {
    const ended: unknown[] = []
    const bus = createBus({
      instrumentation: instrument({
        publish: () => ({ traceparent: PARENT, end: (result) => ended.push(result.error) }),
      }),
    })
    const refusal = await bus.publish('t', 1, { delay: -1 }).catch((error: unknown) => error)
    expect(refusal).toMatchObject({ code: 'INVALID_OPTIONS' })
    expect(ended).toEqual([refusal])
    await bus.close()
  })

  it('hooks without a publish hook bring no wrapper; a publish hook without one is a type error', () => {
    const handle: Instrumentation['handle'] = () => undefined
    expect(instrument({ handle })).toEqual({ handle })
    // @ts-expect-error the publish hook runs only through the wrapper instrument() adds
    const bare: Instrumentation = { publish: () => undefined }
    expect(bare.wrapPublish).toBeUndefined()
  })
})
