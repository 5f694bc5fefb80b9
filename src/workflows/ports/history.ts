/** Recent measurements of one characteristic, oldest first: the window SPC run rules judge. */
export interface MeasurementHistoryPort {
  recent(q: {
    readonly plant: string
    readonly characteristic: string
    readonly workCenter?: string
    /** events with a seq below this one (the run's trigger), so a replay reads the same window */
    readonly beforeSeq: number
    readonly limit: number
  }): Promise<number[]>
}
