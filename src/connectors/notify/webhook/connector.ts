/**
 * notify/webhook: NotifyPort as one JSON POST to a Slack- or Teams-compatible incoming webhook.
 * The webhook URL is a secret (it is the credential), so it comes from an environment variable or
 * a file; its origin must be on the allowlist like any other target.
 */
import { type Static, Type } from 'typebox'
import type { NotifyPort } from '../../../workflows/ports/notify.ts'
import { defineConnector, EgressSettings } from '../../sdk/define-connector.ts'
import {
  type ConnectorEnvironment,
  connectorSecret,
  exactlyOneSecret,
  processEnvironment,
  SecretEnvField,
  SecretFileField,
} from '../../sdk/secrets.ts'
import { slackPayload, teamsPayload } from './payload.ts'

export const NotifyWebhookConfig = Type.Object(
  {
    /** environment variable or file holding the full webhook URL */
    urlEnv: SecretEnvField(),
    urlFile: SecretFileField(),
    format: Type.Union([Type.Literal('slack'), Type.Literal('teams')], { default: 'slack' }),
    egress: Type.Optional(EgressSettings),
  },
  { additionalProperties: false, ...exactlyOneSecret('url') },
)
export type NotifyWebhookConfig = Static<typeof NotifyWebhookConfig>

function webhookUrl(c: NotifyWebhookConfig, where: ConnectorEnvironment, name = 'notify'): string {
  return connectorSecret(c, 'url', '', where, { kind: 'notify/webhook', name })!
}

export const notifyWebhookConnector = defineConnector({
  kind: 'notify/webhook',
  description: 'Slack/Teams-compatible incoming webhook (JSON POST)',
  configSchema: NotifyWebhookConfig,
  actions: ['send'],
  targets: (c, where) => [new URL(webhookUrl(c, where ?? processEnvironment())).origin],
  egressSettings: (c) => c.egress,
  create(config, ctx): NotifyPort {
    const url = webhookUrl(config, ctx.environment, ctx.name)
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
