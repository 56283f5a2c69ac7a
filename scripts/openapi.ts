// Prints the admin API's OpenAPI document, or with --write refreshes docs/admin-api.openapi.json (linted in CI).
// npm run openapi [-- --write]
import { writeFileSync } from 'node:fs';
import { openapiDocument } from '../src/admin/openapi-document.js';

const text = `${JSON.stringify(await openapiDocument(), null, 2)}\n`;
if (process.argv.includes('--write')) writeFileSync('docs/admin-api.openapi.json', text);
else process.stdout.write(text);
