import { z } from 'zod';
import { CdrSchema } from './cdr-schema.js';
import { NameSchema } from './common-schema.js';
import { DialPeerSchema } from './dial-peer-schema.js';
import { GatewaySchema } from './gateway-schema.js';
import { PermissionCategorySchema, TlsPeerNameSchema, TlsPeerSchema } from './permission-schema.js';
import { TenantSchema } from './tenant-schema.js';
import { TlsCipherListSchema, TlsProfileSchema, TrustpointSchema, TrustStoreSchema } from './tls-schema.js';

/** Sections whose entries are named objects; two files may not define the same entry. */
export const MAP_SECTIONS = ['trustpoints', 'trustStores', 'tlsCiphers', 'tlsProfiles', 'tenants', 'permissions', 'tlsPeers'] as const;
export type MapSection = (typeof MAP_SECTIONS)[number];

/**
 * The whole configuration, after every `profiles/*.yaml` is merged. Every section is optional, so one
 * schema also serves each single file in an editor.
 */
export const ConfigSchema = z.strictObject({
  gateway: GatewaySchema.prefault({}),
  trustpoints: z.record(NameSchema, TrustpointSchema).default({}),
  trustStores: z.record(NameSchema, TrustStoreSchema).default({}),
  tlsCiphers: z.record(NameSchema, TlsCipherListSchema).default({}),
  tlsProfiles: z.record(NameSchema, TlsProfileSchema).default({}),
  tenants: z.record(NameSchema, TenantSchema).default({}),
  dialPeers: z.array(DialPeerSchema).default([]),
  permissions: z.record(NameSchema, PermissionCategorySchema).default({}),
  tlsPeers: z.record(TlsPeerNameSchema, TlsPeerSchema).default({}),
  cdr: CdrSchema.prefault({}),
});

export type ConfigInput = z.input<typeof ConfigSchema>;
export type ConfigSections = z.output<typeof ConfigSchema>;
