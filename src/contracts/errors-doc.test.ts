import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { renderErrorsDoc } from './errors-doc.ts'

it('docs/errors.md lists exactly the codes of the catalogue', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  expect(doc, 'regenerate with: npx tsx src/contracts/errors-doc.ts --write').toBe(renderErrorsDoc())
})
