import { describe, expect, it } from 'vitest'
import { age, jsonBlock, jsonInline, redact } from './format.ts'
import { html, page } from './html.ts'

describe('redact', () => {
  it('hides every secret-named field at any depth, whatever the case or separator', () => {
    const out = redact({
      order: 'A-1',
      Authorization: 'Bearer x',
      nested: { clientSecret: 's', password: 'p', list: [{ access_token: 't' }, { 'api-key': 'k' }] },
      apiKey: 'k',
      API_KEY: 'k',
      apikey: 'k',
      tokenCount: 3,
      idempotencyKey: 'kernel-demo/A-1/post-line#1',
    })
    expect(out).toEqual({
      order: 'A-1',
      Authorization: '[redacted]',
      nested: {
        clientSecret: '[redacted]',
        password: '[redacted]',
        list: [{ access_token: '[redacted]' }, { 'api-key': '[redacted]' }],
      },
      apiKey: '[redacted]',
      API_KEY: '[redacted]',
      apikey: '[redacted]',
      tokenCount: '[redacted]',
      idempotencyKey: 'kernel-demo/A-1/post-line#1',
    })
  })

  it('leaves scalars and null alone', () => {
    expect(redact(null)).toBeNull()
    expect(redact('password')).toBe('password')
    expect(redact([1, 'x'])).toEqual([1, 'x'])
  })
})

describe('rendering', () => {
  it('escapes JSON blocks and previews, after redacting', () => {
    const v = { note: '</pre><script>x()</script>', token: 'abc' }
    expect(jsonBlock(v).value).toContain('&lt;/pre&gt;&lt;script&gt;x()&lt;/script&gt;')
    expect(jsonBlock(v).value).not.toContain('abc')
    expect(jsonInline({ a: '<b>' }).value).toBe('<code>{&quot;a&quot;:&quot;&lt;b&gt;&quot;}</code>')
    expect(jsonInline('x'.repeat(100)).value).toMatch(/^<details><summary>/)
  })

  it('escapes the page title and keeps the htmx config out of script', () => {
    const p = page('<img src=x onerror=alert(1)>', '/', html`<p>${'<b>'}</p>`)
    expect(p).toContain('&lt;img src=x onerror=alert(1)&gt; · Qualink')
    expect(p).toContain('<p>&lt;b&gt;</p>')
    expect(p).toContain('name="htmx-config" content="{&quot;includeIndicatorStyles&quot;:false')
  })

  it('formats ages for operators', () => {
    expect(age(0, 45_000)).toBe('45s')
    expect(age(0, 125_000)).toBe('2m 5s')
    expect(age(0, 3 * 3_600_000 + 60_000)).toBe('3h 1m')
    expect(age(0, 50 * 3_600_000)).toBe('2d 2h')
  })
})
