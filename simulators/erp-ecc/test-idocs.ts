/** IDoc-XML builders for the ECC simulator's tests and the docs' examples. */
import { toXml } from './xml.ts'

export function mbgmcr(
  docnum: string,
  item: Record<string, string>,
  head: Record<string, string> = {},
  code = '01',
): string {
  return `<?xml version="1.0"?>${toXml({
    MBGMCR03: {
      IDOC: {
        EDI_DC40: {
          TABNAM: 'EDI_DC40',
          DOCNUM: docnum,
          IDOCTYP: 'MBGMCR03',
          MESTYP: 'MBGMCR',
          SNDPRN: 'QUALINK',
          RCVPRN: 'ECCCLNT100',
        },
        E1MBGMCR: {
          E1BP2017_GM_HEAD_01: { PSTNG_DATE: '20250301', DOC_DATE: '20250301', ...head },
          E1BP2017_GM_CODE: { GM_CODE: code },
          E1BP2017_GM_ITEM_CREATE: { PLANT: '1000', STGE_LOC: '0001', ENTRY_UOM: 'KG', ...item },
        },
      },
    },
  })}`
}

export function matmas(material: string, qm: boolean): string {
  return `<?xml version="1.0"?>${toXml({
    MATMAS05: {
      IDOC: {
        EDI_DC40: { DOCNUM: '1', IDOCTYP: 'MATMAS05', MESTYP: 'MATMAS' },
        E1MARAM: { MATNR: material, MEINS: 'KG', E1MARCM: { WERKS: '1000', QMATV: qm ? 'X' : '' } },
      },
    },
  })}`
}
