import { isIP } from 'node:net';
import { z } from 'zod';

/** Names of configured objects (tenants, profiles, categories...): referenced from elsewhere. */
export const NameSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, { error: 'a name: letters, digits, "_", "-", "." (not first)' });

export const PortSchema = z.number().int().min(0).max(65_535);

/** A local address to bind: an IPv4 or IPv6 literal. */
export const BindHostSchema = z.string().refine((h) => isIP(h) !== 0, { error: 'an IP address to bind (IPv4 or IPv6 literal)' });

/** The name of an environment variable that holds a secret; the secret itself never sits in a file. */
export const EnvNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'an environment variable name' });
