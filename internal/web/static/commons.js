// Loaded as a module, so it only runs in browsers that GOV.UK Frontend supports; older ones
// get the pages without enhancements, which work on their own.
import { initAll } from './govuk/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
