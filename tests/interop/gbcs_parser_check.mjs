// Run DCC's @smartdcc/gbcs-parser over GBCS messages, with keys from a `smetsnet pki` key-store
// folder (`<eui>[-pp]-<ds|ka>.<pem|key>`), and print what it found as JSON.
//
// Usage: node gbcs_parser_check.mjs PREFIX < request.json
//   PREFIX: the folder `npm install --prefix` installed the package into.
//   request: {"keystore": DIR, "acb": HEX, "messages": [{"name": N, "hex": HEX}, ...]}
// Output: [{"name", "error", "mac", "signature", "decrypted", "notes", "lookups", "parsed"}, ...]
//   mac: the parser's note on the MAC ("valid", "invalid", "unknown"...) or null (no MAC);
//   signature: "true"/"false" from its check, or null when the message carries none;
//   decrypted: one hex string per sensitive-data block it opened (the plaintext it parsed);
//   notes: the notes (decoded values) of every item in those blocks, in order.

import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const prefix = process.argv[2]
const { parseGbcsMessage, minimizeMessage } = createRequire(join(prefix, 'noop.js'))(
  '@smartdcc/gbcs-parser',
)
const request = JSON.parse(readFileSync(0, 'utf-8'))

// The parser asks for (EUI, 'KA'|'DS', {privateKey, prePayment}); the folder format names the
// file after exactly those, so the callback only builds the name. Every look-up is recorded
// so a failing test shows which key the parser wanted.
function makeKeyStore(lookups) {
  return async (eui, type, { privateKey = false, prePayment = false } = {}) => {
    const hex = (typeof eui === 'string' ? eui : Buffer.from(eui).toString('hex'))
      .replace(/[- ]/g, '')
      .toLowerCase()
    const name = `${hex}${prePayment ? '-pp' : ''}-${type.toLowerCase()}.${privateKey ? 'key' : 'pem'}`
    let pem
    try {
      pem = readFileSync(join(request.keystore, name), 'utf-8')
    } catch {
      lookups.push(`${name}: missing`)
      throw new Error(`no key file ${name}`)
    }
    lookups.push(name)
    return privateKey ? createPrivateKey(pem) : createPublicKey(pem)
  }
}

// Hex of a decrypted block in wire order: an item's own hex, then its children's (the parser
// gives a container only its header bytes and lists the contents as children).
function walkBlock(block) {
  const parts = []
  const notes = []
  const walk = (item) => {
    parts.push(item.hex.replace(/ /g, ''))
    if (item.notes !== undefined) notes.push(item.notes)
    for (const child of Object.values(item.children ?? {})) walk(child)
  }
  for (const item of Object.values(block)) walk(item)
  return { hex: parts.join('').toLowerCase(), notes }
}

async function check({ name, hex }) {
  const lookups = []
  const out = { name, error: null, mac: null, signature: null, decrypted: [], notes: [], lookups }
  try {
    const parsed = minimizeMessage(await parseGbcsMessage(hex, makeKeyStore(lookups), request.acb))
    out.parsed = parsed
    out.mac = parsed['MAC']?.['MAC']?.notes ?? null
    out.signature = parsed['Signature']?.['Valid']?.notes ?? null
    for (const [title, block] of Object.entries(parsed)) {
      if (!title.startsWith('Decrypted Payload')) continue
      const { hex, notes } = walkBlock(block)
      out.decrypted.push(hex)
      out.notes.push(...notes)
    }
  } catch (err) {
    out.error = String(err?.stack ?? err)
  }
  return out
}

const results = []
for (const message of request.messages) results.push(await check(message))
process.stdout.write(JSON.stringify(results))
