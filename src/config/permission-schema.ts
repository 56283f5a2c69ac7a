import { z } from 'zod';
import { NameSchema } from './common-schema.js';

/**
 * A dial-plan category. A built-in one (900Dialing, international, local, longDistance, mobile, tollFree)
 * may be given only the fields to change; a new one needs `patterns`.
 */
export const PermissionCategorySchema = z.strictObject({
  description: z.string().optional(),
  /** Regular expressions over the normalised number; an empty list disables the category. */
  patterns: z.array(z.string()).optional(),
  /** Whether callers may dial it unless a tenant or TLS peer says otherwise; a new category defaults to false. */
  default: z.boolean().optional(),
  /** Lower is checked first; new categories default to 0 (before the built-ins, 10 to 60). */
  order: z.number().int().optional(),
});

/** A TLS peer: certificate identity → permissions. The key is a name (`pbx.example.com`, `*.example.com`) or a typed identity (`sip:pbx.example.com`). */
export const TlsPeerNameSchema = z.string().regex(/^((sip|dns|cn|ip):)?(\*\.)?[A-Za-z0-9_.:-]+$/, {
  error: 'a certificate identity: host, *.domain, or sip:/dns:/cn:/ip: followed by one',
});

export const TlsPeerSchema = z.strictObject({
  description: z.string().optional(),
  permissions: z.record(NameSchema, z.boolean()).default({}),
  /** Only calls on these tenants may use this peer; absent: any tenant. */
  tenants: z.array(NameSchema).optional(),
});

export type PermissionCategoryConfig = z.output<typeof PermissionCategorySchema>;
export type TlsPeerConfig = z.output<typeof TlsPeerSchema>;
