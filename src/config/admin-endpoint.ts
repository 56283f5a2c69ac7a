import { AdminSchema } from './gateway-schema.js';
import { mergeDocuments } from './merge-documents.js';
import { readConfigDocuments } from './load-config.js';

export type AdminEndpoint = ReturnType<typeof AdminSchema.parse>;

/**
 * Only `gateway.admin` of a profiles directory (defaults filled in), read even when the rest of the
 * configuration is invalid: `trunkgate reload` must reach the running gateway to hear why a bad file is refused.
 * A section that is itself invalid gives the defaults.
 */
export function readAdminEndpoint(source: string | readonly string[]): AdminEndpoint {
  const { documents } = readConfigDocuments(source);
  const { raw } = mergeDocuments(documents);
  const g = raw.gateway;
  const admin = g !== null && typeof g === 'object' && !Array.isArray(g) ? (g as Record<string, unknown>).admin : undefined;
  const r = AdminSchema.safeParse(admin ?? {});
  return r.success ? r.data : AdminSchema.parse({});
}
