import { readFileSync } from 'node:fs'
import { QualinkError } from '../contracts/errors.ts'
import { ROLES, type Role } from '../server/auth.ts'
import { parseScrypt } from '../signatures/password.ts'

/**
 * A person who logs in to the dashboard. Only the scrypt hash of the password is kept
 * (src/signatures/password.ts: `scrypt$N$r$p$salt$hash`, made by `qualink users hash-password`).
 */
export interface DashboardUser {
  readonly id: string
  /** printed name, shown in the dashboard header */
  readonly name: string
  readonly passwordHash: string
  readonly roles: readonly Role[]
  /** plants this person may see; `*` for all */
  readonly plants: readonly string[]
}

function isRole(r: unknown): r is Role {
  return (ROLES as readonly unknown[]).includes(r)
}

/**
 * Checks every user, naming the user and the field that breaks a rule (QLK_CONFIG_INVALID), so
 * a typo in the users file stops the start instead of silently granting nothing (or too much).
 */
export function checkUsers(value: unknown, source = 'users'): DashboardUser[] {
  const fail = (path: string, who: string, message: string) =>
    new QualinkError('QLK_CONFIG_INVALID', `${source}: user ${who}: ${message}`, [{ path, message }])
  if (!Array.isArray(value))
    throw new QualinkError('QLK_CONFIG_INVALID', `${source}: expected a JSON array of users`, [
      { path: '/users', message: 'must be a list of { id, name, passwordHash, roles, plants }' },
    ])
  const seen = new Set<string>()
  return value.map((raw, i) => {
    const at = `/users/${i}`
    const u = (raw ?? {}) as Record<string, unknown>
    const who = typeof u.id === 'string' && u.id !== '' ? u.id : `#${i}`
    if (typeof u.id !== 'string' || !/^[\w.@-]{1,64}$/.test(u.id))
      throw fail(`${at}/id`, who, 'id must be 1–64 letters, digits, or . _ @ -')
    if (seen.has(u.id)) throw fail(`${at}/id`, who, `id ${u.id} appears twice`)
    seen.add(u.id)
    if (typeof u.name !== 'string' || u.name.trim() === '')
      throw fail(`${at}/name`, who, 'name must be a non-empty string (the printed name)')
    if (typeof u.passwordHash !== 'string' || !parseScrypt(u.passwordHash))
      throw fail(
        `${at}/passwordHash`,
        who,
        'passwordHash must be a scrypt hash with N ≥ 2^14 (make one with `qualink users hash-password`)',
      )
    if (!Array.isArray(u.roles) || u.roles.length === 0)
      throw fail(`${at}/roles`, who, `roles must be a non-empty list of ${ROLES.join(', ')}`)
    for (const [j, r] of u.roles.entries()) {
      if (!isRole(r))
        throw fail(`${at}/roles/${j}`, who, `role "${String(r)}" is not one of ${ROLES.join(', ')}`)
    }
    if (
      !Array.isArray(u.plants) ||
      u.plants.length === 0 ||
      u.plants.some((p) => typeof p !== 'string' || p === '')
    )
      throw fail(`${at}/plants`, who, 'plants must be a non-empty list of plant codes, or ["*"] for all')
    return {
      id: u.id,
      name: u.name,
      passwordHash: u.passwordHash,
      roles: [...(u.roles as Role[])],
      plants: [...(u.plants as string[])],
    }
  })
}

/** Dashboard users from `QUALINK_USERS_FILE`; undefined when no file is named. */
export function loadUsersFile(file: string | undefined): DashboardUser[] | undefined {
  if (!file) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new QualinkError('QLK_CONFIG_INVALID', `${file}: ${(e as Error).message}`, [
      { path: '/users', message: 'must be a readable JSON file' },
    ])
  }
  return checkUsers(parsed, file)
}
