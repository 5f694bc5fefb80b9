/** A qualink.yaml with an edi/x12 connector (trading partner V-42) for plant P100, as an object. */
import type { Doc } from './fixture.ts'

export function ediDoc(over: { edi?: Doc; plant?: Doc; workflows?: Doc } = {}): Doc {
  return {
    version: 1,
    connectors: {
      'sap-p100': { kind: 'erp/sap-s4', config: { baseUrl: 'https://s4.example' } },
      'qms-cloud': { kind: 'qms/rest', config: { baseUrl: 'https://qms.example' } },
      'edi-suppliers': {
        kind: 'edi/x12',
        config: {
          self: { qualifier: 'ZZ', interchangeId: 'QUALINKP100', applicationId: 'QUALINKP100' },
          outboundDir: './edi/out',
          partners: {
            'V-42': {
              qualifier: 'ZZ',
              interchangeId: 'V42SUPPLIER',
              applicationId: 'V42SUPPLIER',
              usage: 'T',
              rejectedConditionCode: '07',
            },
          },
          inbound: { dir: './edi/in', plant: 'P100', pollMs: 100, settleMs: 0 },
          ...over.edi,
        },
      },
    },
    egress: { allowlist: { 'sap-p100': ['https://s4.example'], 'qms-cloud': ['https://qms.example'] } },
    plants: {
      P100: { erp: 'sap-p100', qms: 'qms-cloud', edi: 'edi-suppliers', ...over.plant },
      P200: { erp: 'sap-p100', qms: 'qms-cloud' },
    },
    workflows: over.workflows ?? { 'edi-receiving-advice': { enabled: true } },
  }
}
