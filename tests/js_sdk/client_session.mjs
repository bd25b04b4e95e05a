// One client of Seam's official JavaScript SDK (@seamapi/http), built as a browser app builds
// it, for tests/conformance/test_js_sdk.py to drive call by call:
//
//   node client_session.mjs <endpoint> client-session-token <token>
//   node client_session.mjs <endpoint> publishable-key <publishable key> <user identifier key>
//
// The client comes from SeamHttp.fromClientSessionToken or SeamHttp.fromPublishableKey (which
// gets or creates the user's session). The script prints one JSON line, {"ready": true} or
// {"error": ...}, then reads calls from stdin, one JSON line each:
//
//   {"call": "locks.unlockDoor", "params": {...}, "options": {...}}
//
// and answers each with one JSON line: {"ok": <what the SDK returned>} or {"error": ...}.
// An error names what the SDK threw (class, code, status, request id) and, for an API error,
// the error type lockhub sent: the SDK reports every 401 as a bare `unauthorized`, so the
// server's own type is read from the response body as the SDK received it.
import { createInterface } from 'node:readline'

import { isSeamHttpApiError, SeamHttp } from '@seamapi/http'

const [endpoint, mode, ...args] = process.argv.slice(2)

// Error bodies the client received, by request id.
const errorBodies = new Map()

// Appended to the client's own response transforms (which parse the JSON first), so the SDK
// sees exactly what it would without it.
const recordErrorBody = (data, headers, status) => {
  if (status >= 400) errorBodies.set(headers?.['seam-request-id'] ?? '', data)
  return data
}

const connect = async () => {
  const options = { endpoint, waitForActionAttempt: { pollingInterval: 50, timeout: 10_000 } }
  if (mode === 'client-session-token') {
    return SeamHttp.fromClientSessionToken(args[0], options)
  }
  if (mode === 'publishable-key') {
    return await SeamHttp.fromPublishableKey(args[0], args[1], options)
  }
  throw new Error(`unknown mode ${mode}`)
}

const describe = (error) => {
  if (isSeamHttpApiError(error)) {
    const body = errorBodies.get(error.requestId)
    return {
      name: error.name,
      code: error.code,
      status_code: error.statusCode,
      request_id: error.requestId,
      message: error.message,
      server_error_type: body?.error?.type ?? null,
    }
  }
  return { name: error?.name ?? 'Error', message: String(error?.message ?? error) }
}

const send = (value) => process.stdout.write(`${JSON.stringify(value)}\n`)

// A dotted name of the SDK's surface, e.g. "accessCodes.create" or "clientSessions.get".
const method = (seam, name) => {
  const parts = name.split('.')
  const last = parts.pop()
  const owner = parts.reduce((node, part) => node[part], seam)
  if (typeof owner?.[last] !== 'function') throw new Error(`the SDK has no ${name}`)
  return owner[last].bind(owner)
}

let seam
try {
  seam = await connect()
  seam.client.defaults.transformResponse = [
    ...seam.client.defaults.transformResponse,
    recordErrorBody,
  ]
  send({ ready: true })
} catch (error) {
  send({ error: describe(error) })
  process.exit(0)
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue
  const { call, params, options } = JSON.parse(line)
  try {
    const result = await method(seam, call)(params, options ?? {})
    send({ ok: result ?? null })
  } catch (error) {
    send({ error: describe(error) })
  }
}
