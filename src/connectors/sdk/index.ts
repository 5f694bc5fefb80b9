export { EgressAllowlist, originKey } from './allowlist.ts'
export { type BreakerSettings, CircuitBreaker, DEFAULT_BREAKER } from './circuit-breaker.ts'
export { type Clock, ManualClock, systemClock } from './clock.ts'
export {
  type Connector,
  type ConnectorContext,
  type ConnectorDefinition,
  type ConnectorRuntime,
  defineConnector,
  EgressSettings,
} from './define-connector.ts'
export {
  DEFAULT_TIMEOUT_MS,
  EgressClient,
  type EgressOptions,
  type EgressRequest,
  type EgressResponse,
  type HttpMethod,
} from './egress.ts'
export { describeRemoteError, EgressFailure, parseRetryAfter, RemoteRejected } from './http-errors.ts'
export {
  type CallOutcome,
  type CircuitState,
  type EgressCall,
  type EgressMetrics,
  noopMetrics,
  type RateLimitWait,
  RecordingMetrics,
} from './metrics.ts'
export { DEFAULT_RATE_LIMIT, type RateLimitSettings, TokenBucket } from './rate-limit.ts'
export { referenceFor } from './reference.ts'
export {
  atMostOneSecret,
  ConnectorConfigError,
  type ConnectorEnvironment,
  connectorSecret,
  exactlyOneSecret,
  processEnvironment,
  readSecret,
  SecretEnvField,
  SecretFileField,
} from './secrets.ts'
