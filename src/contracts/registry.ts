import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { type CloudEvent, CloudEventEnvelope, EXTENSION_NAME } from './envelope.ts'
import { type FieldProblem, QualinkError } from './errors.ts'
import type { EventType } from './event-type.ts'

export interface RegistryOptions {
  /** type patterns accepted without a schema, e.g. `lab.*` or an exact type; `*` matches any suffix */
  readonly passthrough?: readonly string[]
}

function toProblems(prefix: string, errors: readonly ErrorObject[] | null | undefined): FieldProblem[] {
  return (errors ?? []).map((e) => {
    if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty
      return { path: `${prefix}${e.instancePath}/${missing}`, message: 'is required' }
    }
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty
      return { path: `${prefix}${e.instancePath}/${extra}`, message: 'is not allowed by the schema' }
    }
    return { path: `${prefix}${e.instancePath}` || '/', message: e.message ?? e.keyword }
  })
}

/**
 * The property name of Qualink's encryption envelope (security/encryption.ts): an incoming value
 * shaped like one would be taken for ciphertext when read back, so producers may not send it.
 */
const ENVELOPE_KEY = '$enc'

/** The JSON pointer of the first object in `value` that has an `$enc` property, if any. */
function envelopeKeyAt(value: unknown, path: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = envelopeKeyAt(value[i], `${path}/${i}`)
      if (hit !== undefined) return hit
    }
    return undefined
  }
  if (Object.hasOwn(value, ENVELOPE_KEY)) return `${path}/${ENVELOPE_KEY}`
  for (const [k, v] of Object.entries(value)) {
    const hit = envelopeKeyAt(v, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)
    if (hit !== undefined) return hit
  }
  return undefined
}

/** extension names Qualink's answers use for its own fields (server/routes/events.ts publicEvent) */
const RESERVED_EXTENSIONS = new Set(['seq'])

/**
 * Maps each `type` to its data schema. Unknown types are refused unless configured as
 * passthrough. Validation returns every problem at once, each naming the field and the rule.
 */
export class EventRegistry {
  private readonly ajv: Ajv2020
  private readonly envelope: ValidateFunction
  private readonly validators = new Map<string, ValidateFunction>()
  private readonly types = new Map<string, EventType>()
  private readonly passthrough: readonly RegExp[]

  /**
   * A type's data schema is compiled the first time an event of that type is validated, not here:
   * compiling the whole catalogue took ~0.4 s of the demo's start-up (CPU profile, 2026-11-29),
   * most of it for types a plant never sends. `compileAll()` compiles every schema at once (the
   * registry tests use it, so a schema that does not compile fails there, not on a first event).
   */
  constructor(types: readonly EventType[], opts: RegistryOptions = {}) {
    this.ajv = new Ajv2020({ allErrors: true, strict: false })
    addFormats.default(this.ajv)
    this.envelope = this.ajv.compile(CloudEventEnvelope)
    for (const t of types) {
      if (this.types.has(t.type)) throw new Error(`event type ${t.type} registered twice`)
      this.types.set(t.type, t)
    }
    this.passthrough = (opts.passthrough ?? []).map(
      (p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
    )
  }

  /** Compiles every registered type's data schema now (see the constructor). */
  compileAll(): void {
    for (const type of this.types.keys()) this.validatorOf(type)
  }

  private validatorOf(type: string): ValidateFunction | undefined {
    const known = this.validators.get(type)
    if (known) return known
    const t = this.types.get(type)
    if (!t) return undefined
    const compiled = this.ajv.compile(t.schema)
    this.validators.set(type, compiled)
    return compiled
  }

  get(type: string): EventType | undefined {
    return this.types.get(type)
  }

  list(): EventType[] {
    return [...this.types.values()]
  }

  isPassthrough(type: string): boolean {
    return !this.types.has(type) && this.passthrough.some((r) => r.test(type))
  }

  /**
   * Checks the envelope, then the data against its type's schema. `at` prefixes paths for
   * batch members (`/3`). Throws QualinkError with every problem found.
   */
  validate(candidate: unknown, at = ''): CloudEvent {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      throw new QualinkError('QLK_VALIDATION', 'a CloudEvent must be a JSON object', [
        { path: at || '/', message: 'must be an object' },
      ])
    }
    const obj = candidate as Record<string, unknown>
    if (!this.envelope(obj)) {
      const problems = toProblems(at, this.envelope.errors)
      const missing = problems.find((p) => p.message === 'is required')
      throw new QualinkError(
        missing ? 'QLK_ATTRIBUTE_MISSING' : 'QLK_VALIDATION',
        `CloudEvent envelope is invalid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
        problems,
      )
    }
    const badExt = Object.keys(obj).filter(
      (k) => !(k in CloudEventEnvelope.properties) && !EXTENSION_NAME.test(k),
    )
    if (badExt.length > 0) {
      throw new QualinkError(
        'QLK_VALIDATION',
        `extension attribute names must be lower-case alphanumeric (CloudEvents naming): ${badExt.join(', ')}`,
        badExt.map((k) => ({ path: `${at}/${k}`, message: 'extension name must match ^[a-z0-9]{1,20}$' })),
      )
    }
    // Attributes Qualink adds to its answers are not the producer's to set (OWASP API3, mass
    // assignment): an extension `seq` would otherwise stand beside the log's own sequence number.
    const reserved = Object.keys(obj).filter((k) => RESERVED_EXTENSIONS.has(k))
    if (reserved.length > 0) {
      throw new QualinkError(
        'QLK_VALIDATION',
        `extension attribute ${reserved.join(', ')} is reserved: Qualink assigns it`,
        reserved.map((k) => ({ path: `${at}/${k}`, message: 'is reserved (assigned by Qualink)' })),
      )
    }
    const event = obj as CloudEvent
    const reservedAt = envelopeKeyAt(event.data, `${at}/data`)
    if (reservedAt !== undefined) {
      throw new QualinkError(
        'QLK_VALIDATION',
        `${reservedAt} is reserved: '${ENVELOPE_KEY}' marks a value Qualink encrypted at rest`,
        [
          {
            path: reservedAt,
            message: `property name '${ENVELOPE_KEY}' is reserved (Qualink's encryption envelope)`,
          },
        ],
      )
    }
    const validator = this.validatorOf(event.type)
    if (!validator) {
      if (this.isPassthrough(event.type)) return event
      throw new QualinkError('QLK_UNKNOWN_EVENT_TYPE', `event type '${event.type}' is not registered`, [
        {
          path: `${at}/type`,
          message: `'${event.type}' is not a registered event type and not configured as passthrough`,
        },
      ])
    }
    if (!validator(event.data)) {
      const problems = toProblems(`${at}/data`, validator.errors)
      throw new QualinkError(
        'QLK_SCHEMA_VIOLATION',
        `data of ${event.type} violates its schema: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
        problems,
      )
    }
    return event
  }
}
