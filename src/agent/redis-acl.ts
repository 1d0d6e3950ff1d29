// `npm run agent-acl -- [--user NAME]`: prints the ACL SETUSER command of a Redis user for agents that
// speak BullMQ directly (src/redis/agent-acl.ts), for this CONDUCTOR_PREFIX; pipe it into redis-cli,
// then give the user a password (docs/operations.md, "Trust model").
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.ts'
import { agentAclRules } from '../redis/agent-acl.ts'
import { queuePrefix } from '../redis/connection.ts'

const usage = 'usage: npm run agent-acl -- [--user NAME] (default cyborg-agent)'
function parsedArgs() {
  try {
    return parseArgs({ options: { user: { type: 'string', default: 'cyborg-agent' } } }).values
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`)
    process.exit(2)
  }
}
const { user } = parsedArgs()
if (!/^[A-Za-z0-9_.-]+$/.test(user)) {
  console.error(`the user name may hold letters, digits, "_", "." and "-" only\n${usage}`)
  process.exit(2)
}
// Quoted for redis-cli: the key patterns hold "{" and "*".
console.log(['ACL', 'SETUSER', user, ...agentAclRules(queuePrefix(loadConfig()))].map((word) => `"${word}"`).join(' '))
