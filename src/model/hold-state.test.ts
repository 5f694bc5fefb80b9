import { describe, expect, it } from 'vitest'
import {
  applyDeliveryBlockEvent,
  applyProductionOrderHoldEvent,
  newDeliveryBlock,
  newProductionOrderHold,
} from './hold-state.ts'

describe('production order hold', () => {
  it('holds and releases', () => {
    const held = applyProductionOrderHoldEvent(newProductionOrderHold('PO-1'), {
      type: 'hold',
      reason: 'NC-7 out of tolerance',
    })
    expect(held).toMatchObject({
      parked: false,
      state: { status: 'on_hold', reason: 'NC-7 out of tolerance' },
    })
    if (held.parked) throw new Error('parked')
    expect(applyProductionOrderHoldEvent(held.state, { type: 'release_hold' })).toMatchObject({
      state: { status: 'released' },
    })
  })

  it('refuses holding a held order and releasing a released one', () => {
    expect(() =>
      applyProductionOrderHoldEvent(newProductionOrderHold('PO-2'), { type: 'release_hold' }),
    ).toThrow(/production_order PO-2 is 'released': release_hold is not allowed/)
    const held = applyProductionOrderHoldEvent(newProductionOrderHold('PO-2'), { type: 'hold', reason: 'x' })
    if (held.parked) throw new Error('parked')
    expect(() => applyProductionOrderHoldEvent(held.state, { type: 'hold', reason: 'y' })).toThrow(
      /'on_hold': hold/,
    )
  })

  it('parks a late release behind a newer hold', () => {
    const held = applyProductionOrderHoldEvent(newProductionOrderHold('PO-3'), {
      type: 'hold',
      reason: 'x',
      sequence: 10,
    })
    if (held.parked) throw new Error('parked')
    expect(applyProductionOrderHoldEvent(held.state, { type: 'release_hold', sequence: 9 })).toMatchObject({
      parked: true,
    })
  })
})

describe('delivery block', () => {
  it('unblocks and re-blocks', () => {
    const u = applyDeliveryBlockEvent(newDeliveryBlock('D-1'), { type: 'unblock' })
    if (u.parked) throw new Error('parked')
    expect(u.state.status).toBe('unblocked')
    expect(applyDeliveryBlockEvent(u.state, { type: 'block', reason: 'complaint C-1' })).toMatchObject({
      state: { status: 'blocked' },
    })
  })

  it('refuses unblocking an unblocked delivery', () => {
    expect(() => applyDeliveryBlockEvent(newDeliveryBlock('D-2', 'unblocked'), { type: 'unblock' })).toThrow(
      expect.objectContaining({
        code: 'QLK_ILLEGAL_TRANSITION',
        message: expect.stringMatching(/delivery D-2 is 'unblocked'/),
      }),
    )
  })
})
