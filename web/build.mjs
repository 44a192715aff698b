// Copies GOV.UK Frontend's compiled files from node_modules into the Go package that embeds
// them (internal/web/static/govuk, which is not committed). Run after `npm ci`:
//
//   cd web && npm ci && node build.mjs
//
// GDS Transport is licensed for gov.uk domains only, so the font files are left out and the
// stylesheet is rewritten to use the system font stack. GOV.UK Frontend's CSS refers to its
// images at /assets/…; Commons serves them under /assets/govuk/assets/…, so those URLs are
// rewritten too.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const from = join(here, 'node_modules', 'govuk-frontend', 'dist', 'govuk')
const to = join(here, '..', 'internal', 'web', 'static', 'govuk')

const systemFonts = 'system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",arial,sans-serif'

let css = readFileSync(join(from, 'govuk-frontend.min.css'), 'utf8')
const before = css.length
css = css
  .replace(/@font-face\{font-family:GDS Transport;[^}]*\}/g, '')
  .replaceAll('GDS Transport,arial,sans-serif', systemFonts)
  .replaceAll('url(/assets/', 'url(/assets/govuk/assets/')
  .replace(/\/\*# sourceMappingURL=[^*]*\*\/\s*$/, '')
if (css.includes('GDS Transport')) {
  throw new Error('govuk-frontend.min.css still names GDS Transport; the rewrite rules need updating for this version')
}

rmSync(to, { recursive: true, force: true })
mkdirSync(join(to, 'assets'), { recursive: true })
writeFileSync(join(to, 'govuk-frontend.min.css'), css)

const js = readFileSync(join(from, 'govuk-frontend.min.js'), 'utf8')
writeFileSync(join(to, 'govuk-frontend.min.js'), js.replace(/\/\/# sourceMappingURL=\S*\s*$/, ''))

cpSync(join(from, 'assets', 'images'), join(to, 'assets', 'images'), { recursive: true })

const { version } = JSON.parse(readFileSync(join(here, 'node_modules', 'govuk-frontend', 'package.json'), 'utf8'))
console.log(`govuk-frontend ${version} copied to ${to} (stylesheet ${before} → ${css.length} bytes, no fonts)`)
