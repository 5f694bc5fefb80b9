import type { TObject } from 'typebox'
import { Complaint, Delivery } from './customer.ts'
import { InspectionLot, InspectionSpecification, ResultRecord } from './inspection.ts'
import { Lot, Serial } from './lot.ts'
import { Material, Plant, Supplier } from './master-data.ts'
import { CorrectiveAction, Disposition, Nonconformance } from './nonconformance.ts'
import { Operation, ProductionOrder } from './production.ts'

export const SYSTEM_KINDS = ['erp', 'qms', 'mes', 'lims', 'crm', 'qualink'] as const
export type SystemKind = (typeof SYSTEM_KINDS)[number]

export const OBJECT_KINDS = [
  'plant',
  'material',
  'supplier',
  'production_order',
  'operation',
  'lot',
  'serial',
  'inspection_specification',
  'inspection_lot',
  'result_record',
  'nonconformance',
  'disposition',
  'corrective_action',
  'complaint',
  'delivery',
] as const
export type ObjectKind = (typeof OBJECT_KINDS)[number]

export interface ObjectDefinition {
  readonly kind: ObjectKind
  readonly schema: TObject
  /** Fields that together identify one instance; all are required in `schema` (tested). */
  readonly identifiers: readonly string[]
  /** Which system owns the record unless a plant overrides it. */
  readonly systemOfRecord: SystemKind
}

function def(
  kind: ObjectKind,
  schema: TObject,
  identifiers: string[],
  systemOfRecord: SystemKind,
): ObjectDefinition {
  return { kind, schema, identifiers, systemOfRecord }
}

/**
 * Every canonical object with its identifiers and default system of record. The defaults are the
 * usual split (ERP owns master data, stock and orders; QMS owns inspection and NC/CAPA; MES owns
 * operations; CRM owns complaints); a plant whose QMS lives inside SAP QM overrides them.
 */
export const OBJECTS: Readonly<Record<ObjectKind, ObjectDefinition>> = {
  plant: def('plant', Plant, ['id'], 'erp'),
  material: def('material', Material, ['id', 'plant'], 'erp'),
  supplier: def('supplier', Supplier, ['id', 'plant'], 'erp'),
  production_order: def('production_order', ProductionOrder, ['id', 'plant'], 'erp'),
  operation: def('operation', Operation, ['productionOrder', 'number', 'plant'], 'mes'),
  lot: def('lot', Lot, ['id', 'plant', 'material'], 'erp'),
  serial: def('serial', Serial, ['id', 'material', 'plant'], 'erp'),
  inspection_specification: def(
    'inspection_specification',
    InspectionSpecification,
    ['id', 'plant', 'version'],
    'qms',
  ),
  inspection_lot: def('inspection_lot', InspectionLot, ['id', 'plant'], 'qms'),
  result_record: def('result_record', ResultRecord, ['inspectionLot', 'characteristic', 'plant'], 'qms'),
  nonconformance: def('nonconformance', Nonconformance, ['id', 'plant'], 'qms'),
  disposition: def('disposition', Disposition, ['id', 'plant'], 'qms'),
  corrective_action: def('corrective_action', CorrectiveAction, ['id', 'plant'], 'qms'),
  complaint: def('complaint', Complaint, ['id', 'plant'], 'crm'),
  delivery: def('delivery', Delivery, ['id', 'plant'], 'erp'),
}

/** Per-plant system-of-record configuration (from qualink.yaml `plants.<id>.systemOfRecord`). */
export interface SystemOfRecordConfig {
  readonly defaults?: Partial<Record<ObjectKind, SystemKind>>
  readonly plants?: Readonly<Record<string, Partial<Record<ObjectKind, SystemKind>>>>
  /** Code-level override, asked first; return undefined to fall through to the tables. */
  readonly override?: (kind: ObjectKind, plant: string) => SystemKind | undefined
}

/**
 * Returns the owner of `kind` in `plant`: the override function, then the plant's table, then the
 * configured default, then the built-in default.
 */
export function systemOfRecord(
  kind: ObjectKind,
  plant: string,
  config: SystemOfRecordConfig = {},
): SystemKind {
  return (
    config.override?.(kind, plant) ??
    config.plants?.[plant]?.[kind] ??
    config.defaults?.[kind] ??
    OBJECTS[kind].systemOfRecord
  )
}

/** A resolver bound to one configuration, for code that asks many times. */
export function systemOfRecordResolver(
  config: SystemOfRecordConfig,
): (kind: ObjectKind, plant: string) => SystemKind {
  return (kind, plant) => systemOfRecord(kind, plant, config)
}

/** The identifier tuple of an instance, in declaration order, e.g. lot → ['L-1', 'P100', 'M-7']. */
export function identityOf(kind: ObjectKind, record: Readonly<Record<string, unknown>>): string[] {
  return OBJECTS[kind].identifiers.map((f) => String(record[f]))
}
