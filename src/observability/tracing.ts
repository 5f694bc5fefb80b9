/**
 * Tracing behind one small API, so the rest of the code never imports OpenTelemetry.
 *
 * Off unless configured (qualink.yaml `server.tracing` or OTEL_EXPORTER_OTLP_ENDPOINT). Off means
 * no OTel tracer and no async-context tracking: `startSpan` returns a pass-through handle whose
 * `traceparent` is the remote parent it was given, so an explicit traceparent still reaches a
 * connector unchanged, and nothing else happens.
 *
 * On means OpenTelemetry spans with an AsyncLocalStorage context manager (a step's span is the
 * active parent of the egress calls made inside it), W3C Trace Context parsing and formatting
 * (www.w3.org/TR/trace-context/ §3.2 traceparent), and, when an endpoint is set, OTLP/HTTP JSON
 * export in batches. Without an endpoint spans are made and propagated (trace ids in logs and
 * traceparent headers to connectors) but never leave the process.
 */
import {
  type Context,
  context,
  DiagLogLevel,
  defaultTextMapGetter,
  defaultTextMapSetter,
  diag,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { type ExportResult, ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base'
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions'

export interface TracingSettings {
  /** OTLP/HTTP base URL, as OTEL_EXPORTER_OTLP_ENDPOINT: spans are POSTed to `<url>/v1/traces` */
  readonly otlpEndpoint?: string
  /** `service.name` of the exported resource (default `qualink`) */
  readonly serviceName?: string
  /** share of new traces recorded, 0..1 (default 1); a remote parent's sampled flag is followed */
  readonly sampleRatio?: number
}

export type SpanRole = 'server' | 'client' | 'internal' | 'consumer'
export type SpanAttributes = Readonly<Record<string, string | number | boolean | undefined | null>>

export interface SpanOptions {
  readonly kind?: SpanRole
  readonly attributes?: SpanAttributes
  /**
   * A W3C traceparent to continue (a remote parent); `null` starts a new trace; absent: child of
   * the active span. An invalid traceparent counts as absent parent information: a new trace.
   */
  readonly parent?: string | null
  /** other traceparents this work relates to (the further events of a batch) */
  readonly links?: readonly (string | undefined)[]
  /**
   * Only as a child of the active span: with none active, no span (a poll of a background loop
   * is not a trace of its own)
   */
  readonly childOnly?: boolean
}

export interface TraceSpan {
  /** this span's W3C traceparent, to send downstream; undefined when there is no trace */
  readonly traceparent: string | undefined
  set(attributes: SpanAttributes): void
  /** marks the span failed: status ERROR, `error.type` (a QLK_ code when the error has one), the exception */
  fail(error: unknown, code?: string): void
  /** runs `fn` with this span active, so spans started inside are its children */
  run<T>(fn: () => T): T
  end(): void
}

/** The W3C traceparent shape the CloudEvents extension and the egress header use. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value) && !/^ff-/.test(value)
}

const propagator = new W3CTraceContextPropagator()
const KINDS: Record<SpanRole, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
  consumer: SpanKind.CONSUMER,
}

interface Active {
  readonly provider: BasicTracerProvider
  readonly tracer: Tracer
}
/** enabled providers, newest last; spans go to the newest (one per process outside tests) */
const enabled: Active[] = []
let contextManager: AsyncLocalStorageContextManager | undefined

function remoteContext(traceparent: string | undefined): Context {
  if (!isTraceparent(traceparent)) return ROOT_CONTEXT
  return propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter)
}

function format(span: Span): string | undefined {
  const carrier: Record<string, string> = {}
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter)
  return carrier.traceparent
}

function clean(attributes: SpanAttributes | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const [k, v] of Object.entries(attributes ?? {})) if (v !== undefined && v !== null) out[k] = v
  return out
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

class PassThroughSpan implements TraceSpan {
  constructor(readonly traceparent: string | undefined) {}
  set(): void {}
  fail(): void {}
  run<T>(fn: () => T): T {
    return fn()
  }
  end(): void {}
}
const NO_TRACE = new PassThroughSpan(undefined)

class OtelSpan implements TraceSpan {
  readonly traceparent: string | undefined
  constructor(private readonly span: Span) {
    this.traceparent = format(span)
  }
  set(attributes: SpanAttributes): void {
    this.span.setAttributes(clean(attributes))
  }
  fail(error: unknown, code = codeOf(error)): void {
    this.span.setAttribute('error.type', code ?? (error instanceof Error ? error.name : 'error'))
    if (error instanceof Error) this.span.recordException(error)
    this.span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : code,
    })
  }
  run<T>(fn: () => T): T {
    return context.with(trace.setSpan(context.active(), this.span), fn)
  }
  end(): void {
    this.span.end()
  }
}

/** Starts a span (see SpanOptions for its parent); the caller ends it. */
export function startSpan(name: string, opts: SpanOptions = {}): TraceSpan {
  const active = enabled.at(-1)
  if (!active) return isTraceparent(opts.parent) ? new PassThroughSpan(opts.parent) : NO_TRACE
  // An ended parent is a request that has answered: what still runs in its context is not its work.
  if (opts.childOnly && !trace.getSpan(context.active())?.isRecording()) return NO_TRACE
  const parent = opts.parent === undefined ? context.active() : remoteContext(opts.parent ?? undefined)
  const links: Link[] = []
  for (const tp of opts.links ?? []) {
    const linked = trace.getSpanContext(remoteContext(tp))
    if (linked) links.push({ context: linked })
  }
  const span = active.tracer.startSpan(
    name,
    { kind: KINDS[opts.kind ?? 'internal'], attributes: clean(opts.attributes), links },
    parent,
  )
  return new OtelSpan(span)
}

/** Runs `fn` in a new span that ends when it settles; a throw marks the span failed and is rethrown. */
export async function inSpan<T>(
  name: string,
  opts: SpanOptions,
  fn: (span: TraceSpan) => Promise<T>,
): Promise<T> {
  const span = startSpan(name, opts)
  try {
    return await span.run(() => fn(span))
  } catch (e) {
    span.fail(e)
    throw e
  } finally {
    span.end()
  }
}

/**
 * Runs `fn` outside any trace. A background loop's timer armed while a request is being served
 * (a wake-up after a POST) would otherwise carry that request's context into every later tick.
 */
export function detached<T>(fn: () => T): T {
  return contextManager ? context.with(ROOT_CONTEXT, fn) : fn()
}

/**
 * An error answered by a server span's request. A 4xx is the caller's mistake, so the span's
 * status stays unset and only `error.type` names it (OTel HTTP semantic conventions, "Status");
 * a 5xx or an error without a status marks the span failed.
 */
export function recordServerError(span: TraceSpan, error: unknown): void {
  const status = (error as { status?: unknown } | null)?.status
  if (typeof status === 'number') span.set({ 'http.response.status_code': status })
  if (typeof status === 'number' && status < 500) span.set({ 'error.type': codeOf(error) ?? String(status) })
  else span.fail(error)
}

/**
 * Links the active span to another trace (an event a run received mid-way, whose own ingest is
 * in its sender's trace); nothing when tracing is off or `traceparent` is not one.
 */
export function linkActiveSpan(traceparent: unknown, attributes?: SpanAttributes): void {
  if (!contextManager || !isTraceparent(traceparent)) return
  const linked = trace.getSpanContext(remoteContext(traceparent))
  if (linked) trace.getActiveSpan()?.addLink({ context: linked, attributes: clean(attributes) })
}

/** The active span's ids, for log lines (OpenTelemetry log data model field names). */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!contextManager) return undefined
  const sc = trace.getSpanContext(context.active())
  return sc ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined
}

export interface TracingHandle {
  /** exports what is buffered */
  forceFlush(): Promise<void>
  /** ends export (flushing first); spans started afterwards go to an earlier handle or nowhere */
  shutdown(): Promise<void>
}

/**
 * Turns tracing on for this process. `exporter` replaces the OTLP one (tests that inspect spans
 * in memory); without either, spans are made and propagated but not exported. `warn` receives the
 * SDK's own warnings and errors (a collector that refuses or is unreachable), which OTel
 * otherwise drops silently.
 */
export function enableTracing(
  settings: TracingSettings,
  opts: { exporter?: SpanExporter; warn?: (message: string) => void } = {},
): TracingHandle {
  const ratio = settings.sampleRatio ?? 1
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`sampleRatio must be within 0..1, got ${ratio}`)
  const exporter =
    opts.exporter ??
    (settings.otlpEndpoint ? new LazyOtlpExporter(tracesUrl(settings.otlpEndpoint)) : undefined)
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName ?? 'qualink' }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: exporter ? [new BatchSpanProcessor(exporter)] : [],
  })
  if (opts.warn) {
    const warn = opts.warn
    const say = (message: string, ...args: unknown[]) =>
      warn(
        `opentelemetry: ${[message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))].join(' ')}`,
      )
    diag.setLogger(
      { error: say, warn: say, info: () => {}, debug: () => {}, verbose: () => {} },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    )
  }
  if (!contextManager) {
    contextManager = new AsyncLocalStorageContextManager().enable()
    context.setGlobalContextManager(contextManager)
  }
  const mine: Active = { provider, tracer: provider.getTracer('qualink') }
  enabled.push(mine)
  let done: Promise<void> | undefined
  return {
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      done ??= (async () => {
        const i = enabled.indexOf(mine)
        if (i >= 0) enabled.splice(i, 1)
        if (enabled.length === 0 && contextManager) {
          // Nothing traces any more: drop the async-context tracking too (its cost is per promise).
          context.disable()
          contextManager = undefined
        }
        // A collector that is down must not fail the process's shutdown: the spans are lost, said once.
        await provider
          .shutdown()
          .catch((e: unknown) => opts.warn?.(`opentelemetry: spans not exported at shutdown: ${String(e)}`))
        // The SDK's warnings went to this process's logger; none is left to hear them.
        if (enabled.length === 0) diag.disable()
      })()
      return done
    },
  }
}

/**
 * The OTLP/HTTP exporter, imported when its first batch is exported: the package and the
 * transformer it pulls in took ~0.1 s of every start-up (CPU profile of the demo, 2026-11-29),
 * with or without an endpoint configured. A failed import fails the batch as an unreachable
 * collector does (the SDK reports it through `warn`).
 */
class LazyOtlpExporter implements SpanExporter {
  private real: Promise<SpanExporter> | undefined

  constructor(private readonly url: string) {}

  private load(): Promise<SpanExporter> {
    // A CommonJS package: its exports are `default` both under Node's loader and in the bundle's
    // chunk (scripts/build.js), which has no named exports (test/observability/tracing-start.test.ts)
    this.real ??= import('@opentelemetry/exporter-trace-otlp-http').then(
      (m) => new m.default.OTLPTraceExporter({ url: this.url }),
    )
    return this.real
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.load().then(
      (e) => e.export(spans, done),
      (error: unknown) =>
        done({
          code: ExportResultCode.FAILED,
          error: error instanceof Error ? error : new Error(String(error)),
        }),
    )
  }

  async shutdown(): Promise<void> {
    if (this.real) await (await this.real).shutdown()
  }

  async forceFlush(): Promise<void> {
    if (this.real) await (await this.real).forceFlush?.()
  }
}

/** OTEL_EXPORTER_OTLP_ENDPOINT semantics: a base URL to which the signal path is appended. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`
}

/**
 * The settings a process runs with: qualink.yaml's `server.tracing`, with the standard OTel
 * variables over it (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME), as the other settings let
 * the environment override the file. Undefined: tracing stays off.
 */
export function tracingSettings(
  file: TracingSettings | undefined,
  env: NodeJS.ProcessEnv = process.env,
): TracingSettings | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]/.test(endpoint))
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL, got '${endpoint}'`)
  if (!file && endpoint === undefined) return undefined
  return {
    ...file,
    ...(endpoint !== undefined ? { otlpEndpoint: endpoint } : {}),
    ...(env.OTEL_SERVICE_NAME ? { serviceName: env.OTEL_SERVICE_NAME } : {}),
  }
}
