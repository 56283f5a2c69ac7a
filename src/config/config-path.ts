/** A path inside the configuration, as zod and the cross-checks give it. */
export type ConfigPath = readonly (string | number)[];

const PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** `tenants.acme.tlsProfile`, `dialPeers[2].tenant`, `tlsPeers["pbx.example.com"].permissions`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
