/** SQL pieces the PostgreSQL store's modules share: the database clock and the visibility watermark. */
export const dollar = (i: number) => `$${i + 1}`
export const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint'
/** Below this transaction id every transaction has finished: rows under it are final. */
export const WATERMARK = 'pg_snapshot_xmin(pg_current_snapshot())'
