/**
 * Chat payloads. Slack incoming webhooks take `{ text, blocks }` (Block Kit; `text` is the
 * notification fallback) and need `&`, `<`, `>` escaped in mrkdwn. Teams takes a message with an
 * Adaptive Card attachment (contentType application/vnd.microsoft.card.adaptive), the format
 * Teams' workflow-based incoming webhooks accept.
 */
import type { Notification } from '../../../workflows/ports/notify.ts'

export type ChatFormat = 'slack' | 'teams'

const escapeSlack = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const ICON: Record<Notification['severity'], string> = { info: 'ℹ️', warning: '⚠️', critical: '🛑' }

export function slackPayload(n: Notification): Record<string, unknown> {
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: `${ICON[n.severity]} ${n.title}`.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(n.text).slice(0, 3000) } },
  ]
  const facts = (n.facts ?? []).slice(0, 10) // Slack allows at most 10 fields per section
  if (facts.length > 0)
    blocks.push({
      type: 'section',
      fields: facts.map((f) => ({
        type: 'mrkdwn',
        text: `*${escapeSlack(f.name)}*\n${escapeSlack(f.value)}`,
      })),
    })
  if (n.link)
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: n.link.label }, url: n.link.url }],
    })
  return { text: `${n.title}: ${n.text}`.slice(0, 3000), blocks }
}

export function teamsPayload(n: Notification): Record<string, unknown> {
  const body: unknown[] = [
    {
      type: 'TextBlock',
      text: n.title,
      weight: 'Bolder',
      size: 'Medium',
      color: n.severity === 'critical' ? 'Attention' : n.severity === 'warning' ? 'Warning' : 'Default',
      wrap: true,
    },
    { type: 'TextBlock', text: n.text, wrap: true },
  ]
  if (n.facts?.length)
    body.push({ type: 'FactSet', facts: n.facts.map((f) => ({ title: f.name, value: f.value })) })
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(n.link ? { actions: [{ type: 'Action.OpenUrl', title: n.link.label, url: n.link.url }] } : {}),
        },
      },
    ],
  }
}
