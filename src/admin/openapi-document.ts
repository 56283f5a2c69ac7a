import { buildAdmin } from './build-admin.js';

/**
 * The OpenAPI document as `GET /openapi.json` serves it (it depends on no running service, nor on whether a token
 * is set): `npm run openapi -- --write` commits it as docs/admin-api.openapi.json, which CI lints.
 */
export async function openapiDocument(): Promise<unknown> {
  const app = await buildAdmin({} as never);
  await app.ready();
  try {
    return app.swagger();
  } finally {
    await app.close();
  }
}
