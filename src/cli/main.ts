import { Command } from 'commander'
import { isQualinkError } from '../contracts/errors.ts'
import { registerAdoptCommand } from './commands/adopt.ts'
import { registerAuditCommands } from './commands/audit.ts'
import { registerConfigCommands } from './commands/config.ts'
import { registerDemoCommand } from './commands/demo.ts'
import { registerEdiCommands } from './commands/edi.ts'
import { registerKeyCommands } from './commands/keys.ts'
import { registerLotCommands } from './commands/lots.ts'
import { registerMassReleaseCommand } from './commands/mass-release.ts'
import { registerRunCommands } from './commands/runs.ts'
import { registerStartCommand } from './commands/start.ts'
import { registerSupplierCommands } from './commands/suppliers.ts'
import { registerSyntheticCommands } from './commands/synthetic.ts'
import { registerToolCommands, registerXrefCommands } from './commands/tools.ts'
import { registerUserCommands } from './commands/users.ts'

const program = new Command()
  .name('qualink')
  .description('Qualink: the governed integration hub between quality systems and ERP')
  .showHelpAfterError()

registerStartCommand(program)
registerDemoCommand(program)
registerConfigCommands(program)
registerAuditCommands(program)
registerKeyCommands(program)
registerUserCommands(program)
registerLotCommands(program)
registerMassReleaseCommand(program)
registerRunCommands(program)
registerSyntheticCommands(program)
registerAdoptCommand(program)
registerSupplierCommands(program)
registerEdiCommands(program)
registerToolCommands(program)
registerXrefCommands(program)

try {
  await program.parseAsync(process.argv)
} catch (e) {
  if (isQualinkError(e)) {
    console.error(`${e.code}: ${e.message}`)
    for (const p of e.errors) console.error(`  ${p.path}: ${p.message}`)
  } else {
    console.error(e)
  }
  process.exitCode = 1
}
