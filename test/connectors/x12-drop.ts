/** The X12 folder transport as the EDI tests run it: a file drop on `inbound` storing into `store`. */
import { checkX12File } from '../../src/connectors/edi/x12/translator.ts'
import { type FileDrop, type FileDropConfig, startFileDrop } from '../../src/connectors/ingress/file-drop.ts'
import type { Store } from '../../src/store/types.ts'

export function startX12Drop(inbound: string, store: Store, extra: Partial<FileDropConfig> = {}): FileDrop {
  return startFileDrop(
    {
      name: 'edi-v42',
      plant: 'P100',
      dir: inbound,
      pattern: /\.x12$/i,
      pollMs: 60_000,
      settleMs: 1000,
      // the files are complete when written; a clock ahead of their mtime makes them settled at once
      clock: () => Date.now() + 60_000,
      check: checkX12File,
      ...extra,
    },
    (d) => store.insertRawDelivery(d),
  )
}
