import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CertificateTaskRefusal } from '../../certificate-ops/index.js';
import { sourceAddress, type AdminRefusals } from '../admin-refusals.js';
import type { AdminServices } from '../admin-services.js';
import type { AdminErrorCode } from '../errors.js';
import { certificateRowSchema, errorSchema } from '../schemas.js';

/**
 * The `trunkgate pki` tasks over HTTP (sipXecs does them from its web UI): GET /pki/ca, POST /pki/csr,
 * POST /pki/import, POST /pki/trust, DELETE /pki/trust/:store/:sha256, POST /pki/inspect. Trustpoints and trust
 * stores are named as the running configuration names them, never by a path. Bodies are bounded (256 KiB), and one
 * task that writes runs at a time: another is answered 429 ERR_ADMIN_PKI_BUSY with Retry-After, counted (pki-busy in
 * adminRefused) and logged at most once a minute per source, so a script retrying in a loop is seen without a line per
 * try. A refusal is a 4xx with the code of the check that refused (ERR_PKI_*), or ERR_ADMIN_REQUEST for a name or a
 * field that is wrong.
 */

export const PKI_BODY_LIMIT = 256 * 1024;

const STATUS: Record<CertificateTaskRefusal, number> = { 'unknown-name': 404, 'bad-input': 400, missing: 404, conflict: 409, refused: 422 };

const str = { type: 'string' } as const;
const name = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$' } as const;
const pem = { type: 'string', minLength: 1, maxLength: PKI_BODY_LIMIT } as const;
const refusals = { 400: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema, 422: errorSchema, 429: errorSchema, 501: errorSchema } as const;

/** A CertificateTaskError as status, code and message (told apart by shape: the admin layer imports no service). */
function refusalOf(e: unknown): { status: number; code: string; message: string } | undefined {
  if (!(e instanceof Error) || e.name !== 'CertificateTaskError') return undefined;
  const { kind, code } = e as Error & { kind?: unknown; code?: unknown };
  const status = typeof kind === 'string' && Object.hasOwn(STATUS, kind) ? STATUS[kind as CertificateTaskRefusal] : undefined;
  if (status === undefined) return undefined;
  const fallback: AdminErrorCode = 'ERR_ADMIN_REQUEST';
  return { status, code: typeof code === 'string' ? code : fallback, message: e.message };
}

export function pkiRoutes(services: AdminServices, adminRefusals: AdminRefusals): FastifyPluginAsync {
  return async (app) => {
    let running: string | undefined;

    /** Runs a task: a refusal becomes its 4xx (logged with its code), anything else goes to the 500 handler. */
    async function task<T>(req: FastifyRequest, reply: FastifyReply, what: string, writes: boolean, run: () => T | Promise<T>): Promise<unknown> {
      if (!services.pki) return reply.code(501).send({ code: 'ERR_ADMIN_SERVICE', message: 'certificate tasks are not wired in this gateway' });
      if (writes && running !== undefined) {
        const code: AdminErrorCode = 'ERR_ADMIN_PKI_BUSY';
        const source = sourceAddress(req.socket.remoteAddress);
        adminRefusals.refused('pki-busy', source, { task: what, running }, `admin: pki ${what} from ${source} refused 429: a certificate task (${running}) is running (one at a time)`);
        return reply.code(429).header('retry-after', '1')
          .send({ code, message: `a certificate task (${running}) is running; one at a time` });
      }
      if (writes) running = what;
      try {
        return await run();
      } catch (e) {
        const r = refusalOf(e);
        if (!r) throw e;
        req.log.info({ task: what, code: r.code, status: r.status }, `admin: pki ${what} refused: ${r.message}`);
        return reply.code(r.status).send({ code: r.code, message: r.message });
      } finally {
        if (writes) running = undefined;
      }
    }

    app.get('/pki/ca', {
      schema: {
        summary: 'Our CA certificate, for the far end to trust (trunkgate pki ca export): PEM, or DER with ?format=der',
        tags: ['pki'],
        querystring: { type: 'object', additionalProperties: false, properties: { format: { type: 'string', enum: ['pem', 'der'] } } },
        response: { 200: { description: 'application/x-pem-file, or application/pkix-cert for DER', type: 'string' }, ...refusals },
      },
    }, async (req, reply) => task(req, reply, 'ca export', false, () => {
      const ca = services.pki!.caCertificate();
      const der = (req.query as { format?: string }).format === 'der';
      return der ? reply.type('application/pkix-cert').send(ca.der) : reply.type('application/x-pem-file').send(ca.pem);
    }));

    app.post('/pki/csr', {
      bodyLimit: PKI_BODY_LIMIT,
      schema: {
        summary: 'A certificate signing request for a trustpoint (trunkgate pki csr); a new key waits beside the trustpoint (mode 0600) until the import',
        tags: ['pki'],
        body: {
          type: 'object', required: ['trustpoint', 'subject'], additionalProperties: false,
          properties: {
            trustpoint: name,
            subject: { type: 'string', minLength: 1, maxLength: 1024, description: 'CN=..,O=..,OU=..,C=..' },
            san: { type: 'string', maxLength: 4096, description: 'DNS:..,URI:sip:..,IP:..' },
            key: { type: 'string', maxLength: 16, description: 'ec:p256 (default), ec:p384, rsa:2048, rsa:3072, rsa:4096' },
            reuseKey: { type: 'boolean', description: 'sign with the current key of the trustpoint instead of a new one' },
          },
        },
        response: { 200: { type: 'object', properties: { trustpoint: str, csr: str, newKey: { type: 'boolean' } } }, ...refusals },
      },
    }, async (req, reply) => task(req, reply, 'csr', true, async () => {
      const r = await services.pki!.csr(req.body as { trustpoint: string; subject: string });
      req.log.info({ trustpoint: r.trustpoint, newKey: r.pendingKeyPath !== undefined }, `admin: pki csr for trustpoint ${r.trustpoint}${r.pendingKeyPath ? '; a new key waits for the import' : ''}`);
      return { trustpoint: r.trustpoint, csr: r.csrPem, newKey: r.pendingKeyPath !== undefined };
    }));

    app.post('/pki/import', {
      bodyLimit: PKI_BODY_LIMIT,
      schema: {
        summary: 'Install the certificate a CA signed for a trustpoint (trunkgate pki import): key, chain and dates checked, then the files swapped; the running gateway picks them up',
        tags: ['pki'],
        body: {
          type: 'object', required: ['trustpoint', 'certificate'], additionalProperties: false,
          properties: { trustpoint: name, certificate: pem, chain: pem },
        },
        response: {
          200: { type: 'object', properties: { trustpoint: str, subject: str, sha256: str, notAfter: str, chainLength: { type: 'integer' }, key: { type: 'string', enum: ['new', 'current'] } } },
          ...refusals,
        },
      },
    }, async (req, reply) => task(req, reply, 'import', true, () => {
      const r = services.pki!.importCertificate(req.body as { trustpoint: string; certificate: string; chain?: string });
      req.log.info({ trustpoint: r.trustpoint, sha256: r.sha256, notAfter: r.notAfter.toISOString(), chainLength: r.chainLength },
        `admin: pki import: trustpoint ${r.trustpoint} now holds ${r.subject}, expires ${r.notAfter.toISOString()}`);
      return { trustpoint: r.trustpoint, subject: r.subject, sha256: r.sha256, notAfter: r.notAfter.toISOString(), chainLength: r.chainLength, key: r.key };
    }));

    app.post('/pki/trust', {
      bodyLimit: PKI_BODY_LIMIT,
      schema: {
        summary: 'Trust remote CAs: add every CA of the PEM (one, or a bundle) to a trust-store folder (trunkgate pki trust add); all or none, each a CA within its dates',
        tags: ['pki'],
        body: { type: 'object', required: ['store', 'certificate'], additionalProperties: false, properties: { store: name, certificate: pem } },
        response: {
          200: {
            type: 'object',
            properties: {
              store: str, subject: str, sha256: str,
              added: { type: 'array', description: 'every CA added; subject and sha256 above are the first\'s', items: { type: 'object', properties: { subject: str, sha256: str } } },
            },
          },
          ...refusals,
        },
      },
    }, async (req, reply) => task(req, reply, 'trust add', true, () => {
      const r = services.pki!.trustAdd(req.body as { store: string; certificate: string });
      const added = (r.added ?? [r]).map((a) => ({ subject: a.subject, sha256: a.sha256 }));
      req.log.info({ store: r.store, sha256: added.map((a) => a.sha256) }, `admin: pki trust add: trust store ${r.store} trusts ${added.map((a) => a.subject).join('; ')}`);
      return { store: r.store, subject: r.subject, sha256: r.sha256, added };
    }));

    app.delete('/pki/trust/:store/:sha256', {
      schema: {
        summary: 'Stop trusting a CA: remove it from a trust-store folder by its SHA-256 fingerprint or its start (trunkgate pki trust remove)',
        tags: ['pki'],
        params: {
          type: 'object', required: ['store', 'sha256'],
          properties: { store: name, sha256: { type: 'string', pattern: '^[0-9A-Fa-f:]{8,95}$', description: 'at least 8 hex digits; colons optional' } },
        },
        response: { 200: { type: 'object', properties: { store: str, removed: { type: 'array', items: str }, skipped: { type: 'array', items: str } } }, ...refusals },
      },
    }, async (req, reply) => task(req, reply, 'trust remove', true, () => {
      const r = services.pki!.trustRemove(req.params as { store: string; sha256: string });
      req.log.info({ store: r.store, removed: r.removed }, `admin: pki trust remove: trust store ${r.store} no longer holds ${r.removed.join(', ')}`);
      return r;
    }));

    app.post('/pki/inspect', {
      bodyLimit: PKI_BODY_LIMIT,
      schema: {
        summary: 'The certificates of a PEM text: subject, SAN, issuer, serial, SHA-256, dates, days left (trunkgate pki inspect --json)',
        tags: ['pki'],
        body: { type: 'object', required: ['pem'], additionalProperties: false, properties: { pem } },
        response: { 200: { type: 'object', properties: { certificates: { type: 'array', items: certificateRowSchema } } }, ...refusals },
      },
    }, async (req, reply) => task(req, reply, 'inspect', false, () => {
      const certificates = services.pki!.inspect((req.body as { pem: string }).pem);
      if (certificates.length === 0) return reply.code(400).send({ code: 'ERR_PKI_CERT_INVALID', message: 'pem: no certificate in it' });
      return { certificates };
    }));
  };
}
