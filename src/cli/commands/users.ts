import type { Command } from 'commander'
import { QualinkError } from '../../contracts/errors.ts'
import { hashPassword } from '../../signatures/password.ts'

/** NIST SP 800-63B §5.1.1.2: memorized secrets of at least 8 characters. */
export const MIN_PASSWORD_LENGTH = 8

/**
 * The password from standard input: typed without echo on a terminal, else piped (one trailing
 * newline dropped). Never from argv, where it would show in `ps` and shell history.
 */
export async function readPassword(): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) {
    let text = ''
    for await (const chunk of stdin) text += chunk
    return text.replace(/\r?\n$/, '')
  }
  process.stderr.write('Password (not echoed): ')
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  return new Promise((resolve, reject) => {
    let text = ''
    const done = (err?: Error) => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      process.stderr.write('\n')
      if (err) reject(err)
      else resolve(text)
    }
    const onData = (key: string) => {
      for (const c of key) {
        if (c === '\r' || c === '\n') return done()
        if (c === '\u0003') return done(new Error('cancelled'))
        if (c === '\u007f' || c === '\b') text = text.slice(0, -1)
        else text += c
      }
    }
    stdin.on('data', onData)
    stdin.resume()
  })
}

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('dashboard users (QUALINK_USERS_FILE)')
  users
    .command('hash-password')
    .description(
      'read a password from standard input and print its scrypt hash, for the passwordHash of a user',
    )
    .action(async () => {
      const password = await readPassword()
      if ([...password].length < MIN_PASSWORD_LENGTH)
        throw new QualinkError(
          'QLK_VALIDATION',
          `the password is shorter than ${MIN_PASSWORD_LENGTH} characters`,
          [{ path: '/password', message: `must have at least ${MIN_PASSWORD_LENGTH} characters` }],
        )
      console.log(await hashPassword(password))
    })
}
