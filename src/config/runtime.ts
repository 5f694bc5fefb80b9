/** Process settings from the environment; qualink.yaml (plant configuration) layers on top. */
export interface RuntimeSettings {
  readonly dataDir: string
  readonly databaseUrl: string | undefined
  readonly host: string
  readonly port: number
}

export function runtimeFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  const port = Number(env.QUALINK_PORT ?? env.PORT ?? 8080)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`QUALINK_PORT must be a TCP port (0-65535), got '${env.QUALINK_PORT ?? env.PORT}'`)
  }
  return {
    dataDir: env.QUALINK_DATA_DIR ?? './data',
    databaseUrl: env.DATABASE_URL || undefined,
    // Without authentication configured Qualink listens on loopback only (security issue).
    host: env.QUALINK_HOST ?? '127.0.0.1',
    port,
  }
}
