import { ERRORS } from './errors.ts'

/** docs/errors.md, generated from the catalogue so the two cannot drift (a test compares them). */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ERRORS).map(
    ([code, s]) => `| \`${code}\` | ${s.status} | ${s.title} | ${s.retryable ? 'yes' : 'no'} |`,
  )
  return [
    '# Error codes',
    '',
    'Every error Qualink returns carries a stable code. The API answers with RFC 9457',
    '`application/problem+json`: `type` (a URI naming the code), `title`, `status`, `detail`, `code`, and',
    '`errors`, a list of `{ path, message }` naming each offending field and the rule it broke. Branch on',
    '`code`, never on the message text. "Retry" says whether sending the same request later may succeed.',
    '',
    '| Code | HTTP | Meaning | Retry |',
    '|---|---|---|---|',
    ...rows,
    '',
    'Generated from `src/contracts/errors.ts` by `npx tsx src/contracts/errors-doc.ts --write`.',
    '',
  ].join('\n')
}

if (process.argv.includes('--write')) {
  const { writeFileSync } = await import('node:fs')
  writeFileSync(new URL('../../docs/errors.md', import.meta.url), renderErrorsDoc())
}
