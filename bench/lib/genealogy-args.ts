/** Command-line options of bench/genealogy.ts (its header documents them). */
export type Dialect = 'sqlite' | 'postgres'

export interface Options {
  readonly dialects: Dialect[]
  readonly quick: boolean
  readonly samples: number
  readonly reconLots: number
  /** only the bulk first page, with the edge index set swapped between rounds (no README) */
  readonly bulkIndexes: boolean
  /** server settings of a private cluster for the PostgreSQL part; undefined: the shared server */
  readonly pgPrivate: Readonly<Record<string, string>> | undefined
}

export function parseArgs(argv: readonly string[]): Options {
  let dialect = 'both'
  let quick = false
  let samples = 0
  let reconLots: number | undefined
  let bulkIndexes = false
  let pgPrivate = false
  const sizes = { shared_buffers: '4GB', effective_cache_size: '12GB' }
  const size = (flag: string, v: string | undefined) => {
    if (!v || !/^\d+(kB|MB|GB|TB)$/.test(v))
      throw new Error(`${flag} must be a size such as 4GB or 512MB, not '${v}'`)
    return v
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--quick') quick = true
    else if (a === '--bulk-indexes') bulkIndexes = true
    else if (a === '--dialect') dialect = argv[++i] ?? ''
    else if (a === '--samples') samples = Number(argv[++i])
    else if (a === '--pg-private') pgPrivate = true
    else if (a === '--pg-shared-buffers') sizes.shared_buffers = size(a, argv[++i])
    else if (a === '--pg-effective-cache-size') sizes.effective_cache_size = size(a, argv[++i])
    else if (a === '--recon-lots') {
      reconLots = Number(argv[++i])
      if (!Number.isInteger(reconLots) || reconLots < 0)
        throw new Error(`--recon-lots must be a whole number ≥ 0 (0 skips reconciliation), not '${argv[i]}'`)
    } else
      throw new Error(
        `unknown argument ${a}; usage: genealogy.ts [--dialect sqlite|postgres|both] [--quick] [--samples N] [--recon-lots N] [--bulk-indexes] [--pg-private [--pg-shared-buffers SIZE] [--pg-effective-cache-size SIZE]]`,
      )
  }
  if (!['sqlite', 'postgres', 'both'].includes(dialect))
    throw new Error(`--dialect must be sqlite, postgres or both, not '${dialect}'`)
  const dialects: Dialect[] = dialect === 'both' ? ['sqlite', 'postgres'] : [dialect as Dialect]
  return {
    dialects,
    quick,
    samples: samples > 0 ? samples : quick ? 100 : 400,
    reconLots: reconLots ?? (quick ? 200 : 100_000),
    bulkIndexes,
    pgPrivate: pgPrivate ? sizes : undefined,
  }
}
