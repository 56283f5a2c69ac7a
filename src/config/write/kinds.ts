import type { MapSection } from '../config-schema.js';

/** The configuration objects the write API edits: the named sections, and dialPeers (a list keyed by id). */
export const CONFIG_KINDS = ['tenants', 'tlsProfiles', 'tlsCiphers', 'trustpoints', 'trustStores', 'tlsPeers', 'dialPeers', 'permissions'] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];

/** Sections that are maps of named entries; the other kind (dialPeers) is a list whose entries carry an `id`. */
export type NamedKind = Exclude<ConfigKind, 'dialPeers'> & MapSection;

export function isConfigKind(s: string): s is ConfigKind {
  return (CONFIG_KINDS as readonly string[]).includes(s);
}

/**
 * Where a new entry goes when no file of the profiles directory holds its kind yet: the file the shipped
 * profiles/ keep it in (created when missing).
 */
export const DEFAULT_FILE: Record<ConfigKind, string> = {
  tenants: 'tenants.yaml',
  tlsProfiles: 'tls.yaml',
  tlsCiphers: 'tls.yaml',
  trustpoints: 'tls.yaml',
  trustStores: 'tls.yaml',
  tlsPeers: 'permissions.yaml',
  permissions: 'permissions.yaml',
  dialPeers: 'dial-peers.yaml',
};
