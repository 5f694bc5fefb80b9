/**
 * notify/webhook: NotifyPort as one JSON POST to a Slack- or Teams-compatible incoming webhook.
 * The webhook URL is a secret (it is the credential), so it comes from the environment; its
 * origin must be on the allowlist like any other target.
 */
import { type Static, Type } from 'typebox'
import { PermanentError } from '../../../engine/errors.ts'
import type { NotifyPort } from '../../../workflows/ports/notify.ts'
import { defineConnector, EgressSettings } from '../../sdk/define-connector.ts'
import { slackPayload, teamsPayload } from './payload.ts'

export const NotifyWebhookConfig = Type.Object(
  {
    /** environment variable holding the full webhook URL */
    urlEnv: Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' }),
    format: Type.Union([Type.Literal('slack'), Type.Literal('teams')], { default: 'slack' }),
    egress: Type.Optional(EgressSettings),
  },
  { additionalProperties: false },
)
export type NotifyWebhookConfig = Static<typeof NotifyWebhookConfig>

function webhookUrl(c: NotifyWebhookConfig): string {
  const url = process.env[c.urlEnv]
  if (!url)
    throw new PermanentError(
      'QLK_CONFIG_INVALID',
      `notify/webhook: environment variable ${c.urlEnv} is not set`,
    )
  return url
}

export const notifyWebhookConnector = defineConnector({
  kind: 'notify/webhook',
  description: 'Slack/Teams-compatible incoming webhook (JSON POST)',
  configSchema: NotifyWebhookConfig,
  actions: ['send'],
  targets: (c) => [new URL(webhookUrl(c)).origin],
  egressSettings: (c) => c.egress,
  create(config, ctx): NotifyPort {
    const url = webhookUrl(config)
    return {
      async send(n) {
        await ctx.egress.request({
          method: 'POST',
          url,
          json: config.format === 'teams' ? teamsPayload(n) : slackPayload(n),
          // Chat services ignore it; a receiver that can deduplicate (a relay, a bot) can use it.
          headers: { 'x-qualink-idempotency-key': n.idempotencyKey },
          traceparent: n.traceparent,
          context: `notify '${n.title.slice(0, 40)}'`,
        })
        return { delivered: true }
      },
    }
  },
})
