// Checks lockhub's device database answers against Seam's own schemas (the zod route specs
// of @seamapi/types/devicedb, where the routes are named /api/v1/...; Seam Components call
// them at /internal/devicedb/v1/...).
//
// stdin: [{"route": "/v1/manufacturers/list", "body": <lockhub's JSON answer>}, ...]
// stdout: [{"route": ..., "ok": true} | {"route": ..., "ok": false, "issues": [...]}, ...]
import { routes } from '@seamapi/types/devicedb'

let input = ''
for await (const chunk of process.stdin) input += chunk

const results = JSON.parse(input).map(({ route, body }) => {
  const spec = routes[`/api${route}`]
  if (spec == null) return { route, ok: false, issues: [`no such route in @seamapi/types`] }
  // Strict: a key Seam's schema does not have is an issue too (the envelope's `ok` aside).
  const { ok: _ok, ...payload } = body
  const parsed = spec.jsonResponse.strict().safeParse(payload)
  return parsed.success ? { route, ok: true } : { route, ok: false, issues: parsed.error.issues }
})
process.stdout.write(JSON.stringify(results))
