/** SQL pieces the SQLite store's modules share: the placeholder and the database clock. */
export const q = () => '?'
export const NOW_MS = `CAST(unixepoch('subsec') * 1000 AS INTEGER)`
