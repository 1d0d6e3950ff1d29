// `npm run contract`: writes the job contract's JSON Schema to the committed file.
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname } from 'node:path'
import { CONTRACT_FILE, contractText } from './document.ts'

mkdirSync(dirname(fileURLToPath(CONTRACT_FILE)), { recursive: true })
writeFileSync(CONTRACT_FILE, contractText())
console.log(`wrote ${fileURLToPath(CONTRACT_FILE)}`)
