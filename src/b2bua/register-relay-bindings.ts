import { createHash } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import type { Clock } from '../common/index.js';
import type { RegisterFlow } from './register-flow-token.js';

/**
 * `transport|address|port`, and `|conn` over TCP and TLS: one flow, whatever tenant or address-of-record is bound
 * over it. A connection is a flow of its own (RFC 5626 §5.3), so a binding made over one connection is not live for
 * a token naming another from the same address and port.
 */
export function flowKeyOf(f: Pick<RegisterFlow, 'transport' | 'address' | 'port' | 'conn'>): string {
  return f.conn === undefined ? `${f.transport}|${f.address}|${f.port}` : `${f.transport}|${f.address}|${f.port}|${f.conn}`;
}

interface FlowBindings {
  flow: RegisterFlow;
  /** This app took the flow's latest REGISTER (of the apps of one engine, exactly one did). */
  mine: boolean;
  /** `aor \n contact` → when that binding runs out (epoch ms). */
  ids: Map<string, number>;
}

/** One binding as the registrar keeps it: an address-of-record and a Contact (RFC 3261 §10.3), over a flow. */
type Bound = { flow: RegisterFlow; aor: string; contact: string; expiresAt: number };
/** What one app tells the others of its engine (RelayBindings `share`). */
type Change = { op: 'set'; bound: Bound[]; sync?: true } | { op: 'del'; flow: RegisterFlow; aor: string } | { op: 'hello' };

/** A phone with more lines than this over one flow keeps the first ones bound (each line is one address-of-record). */
export const MAX_BINDINGS_PER_FLOW = 64;

const idOf = (aor: string, contact: string): string => `${aor}\n${contact}`;

/** `<uri>` of a name-addr, or the bare value. */
export function uriOf(value: string | undefined): string {
  const v = value ?? '';
  const m = /<([^>]*)>/.exec(v);
  return (m ? m[1]! : v.split(';')[0]!).trim();
}

/** The URIs of a Contact list (a comma inside `<…>` or quotes does not split it); none for `*` or no Contact. */
export function contactUris(value: string): string[] {
  return (value.match(/(?:"(?:[^"\\]|\\.)*"|<[^>]*>|[^,"<])+/g) ?? []).map(uriOf).filter((u) => u !== '' && u !== '*');
}

/**
 * The bindings the registrar accepted through the relay, each an address-of-record and a Contact over the flow its
 * REGISTER came on: what decides whether a flow token still routes (RFC 5626 §5.3). A binding registered again over
 * another flow (the phone reconnected) leaves the old flow, as it does at the registrar. Every app of one engine
 * takes a share of the REGISTERs and of the requests that come back (the engine spreads them), so with `share`
 * each app tells the others, on a BroadcastChannel named after the flow-token key (the apps of one engine in this
 * process), what it bound or removed, and a new app asks the others for what they hold.
 */
export class RelayBindings {
  readonly #clock: Clock;
  readonly #flows = new Map<string, FlowBindings>();
  /** `tenant \n aor \n contact` → the flow it is bound over. */
  readonly #where = new Map<string, string>();
  /** Flows per tenant, so each tenant's maxBindings counts only its own. */
  readonly #perTenant = new Map<string, number>();
  /** No binding runs out before this: a sweep before it would find nothing. */
  #nextExpiry = Infinity;
  #channel: BroadcastChannel | undefined;

  constructor(clock: Clock, share?: Buffer) {
    this.#clock = clock;
    if (share === undefined) return;
    const name = `trunkgate.register-relay.${createHash('sha256').update(share).digest('hex').slice(0, 16)}`;
    const channel = new BroadcastChannel(name);
    channel.unref();
    channel.onmessage = (e) => this.#apply((e as MessageEvent).data as Change);
    this.#channel = channel;
    channel.postMessage({ op: 'hello' } satisfies Change);
  }

  /** Flows with a binding that has not run out. */
  get size(): number {
    this.#sweep();
    return this.#flows.size;
  }

  /** Of `size`, the flows whose latest REGISTER this app took: summed over the apps of one engine, every flow once. */
  get mine(): number {
    this.#sweep();
    let n = 0;
    for (const b of this.#flows.values()) if (b.mine) n++;
    return n;
  }

  /** Whether the flow a token names has a binding of the token's tenant that has not run out. */
  live(flow: RegisterFlow): boolean {
    const b = this.#flows.get(flowKeyOf(flow));
    if (b === undefined || b.flow.tenant !== flow.tenant) return false;
    const now = this.#clock.now();
    for (const until of b.ids.values()) if (until > now) return true;
    return false;
  }

  /** Whether a new flow of `tenant` would pass its limit; the table is swept only when the tenant looks full. */
  full(key: string, tenant: string, max: number): boolean {
    if (this.#flows.get(key)?.flow.tenant === tenant) return false;
    if ((this.#perTenant.get(tenant) ?? 0) >= max) this.#sweep();
    return (this.#perTenant.get(tenant) ?? 0) >= max;
  }

  /**
   * Binds each of `contacts` of `aor` over the flow until `expiresAt`, moving any of them bound over another flow;
   * false (nothing bound) when the flow would hold more than MAX_BINDINGS_PER_FLOW.
   */
  set(flow: RegisterFlow, aor: string, contacts: readonly string[], expiresAt: number): boolean {
    if (contacts.length === 0) return true;
    const b = this.#flows.get(flowKeyOf(flow));
    const held = b?.flow.tenant === flow.tenant ? b.ids : undefined;
    const added = contacts.filter((c) => !held?.has(idOf(aor, c))).length;
    if ((held?.size ?? 0) + added > MAX_BINDINGS_PER_FLOW) return false;
    const bound = contacts.map((contact) => ({ flow, aor, contact, expiresAt }));
    for (const x of bound) this.#set(x, true);
    this.#channel?.postMessage({ op: 'set', bound } satisfies Change);
    return true;
  }

  /** The bindings of `aor` over the flow are gone (a removal, or a 2xx that grants none). */
  remove(flow: RegisterFlow, aor: string): void {
    this.#remove(flow, aor);
    this.#channel?.postMessage({ op: 'del', flow, aor } satisfies Change);
  }

  /** Each address-of-record bound over each flow, with its latest expiry. */
  list(): Array<{ flow: RegisterFlow; aor: string; expiresAt: number }> {
    this.#sweep();
    return [...this.#flows.values()].flatMap((b) => {
      const aors = new Map<string, number>();
      for (const [id, until] of b.ids) {
        const aor = id.slice(0, id.indexOf('\n'));
        aors.set(aor, Math.max(aors.get(aor) ?? 0, until));
      }
      return [...aors].map(([aor, expiresAt]) => ({ flow: b.flow, aor, expiresAt }));
    });
  }

  close(): void {
    this.#channel?.close();
    this.#channel = undefined;
  }

  #apply(c: Change): void {
    if (c?.op === 'hello') {
      // A new app (a worker started or restarted): what this one holds, so it routes as the others do.
      this.#sweep();
      const bound = [...this.#flows.values()].flatMap((b) => [...b.ids].map(([id, expiresAt]) => {
        const cut = id.indexOf('\n');
        return { flow: b.flow, aor: id.slice(0, cut), contact: id.slice(cut + 1), expiresAt };
      }));
      if (bound.length > 0) this.#channel?.postMessage({ op: 'set', bound, sync: true } satisfies Change);
    } else if (c?.op === 'set' && Array.isArray(c.bound)) {
      // A copy for a new app changes no flow's owner; a new binding makes its sender the owner.
      for (const x of c.bound) this.#set(x, c.sync ? undefined : false);
    } else if (c?.op === 'del') {
      this.#remove(c.flow, c.aor);
    }
  }

  /** Binds `x`; `mine` says whose the flow is now, undefined: as it was (a flow new here is another app's). */
  #set(x: Bound, mine: boolean | undefined): void {
    const key = flowKeyOf(x.flow);
    const id = idOf(x.aor, x.contact);
    const where = `${x.flow.tenant}\n${id}`;
    const before = this.#where.get(where);
    if (before !== undefined && before !== key) this.#unbind(before, id);
    let b = this.#flows.get(key);
    if (b !== undefined && b.flow.tenant !== x.flow.tenant) {
      // The flow now belongs to another tenant: what was bound over it for the old one is gone.
      this.#drop(key);
      b = undefined;
    }
    if (b === undefined) {
      b = { flow: x.flow, mine: mine ?? false, ids: new Map() };
      this.#flows.set(key, b);
      this.#perTenant.set(x.flow.tenant, (this.#perTenant.get(x.flow.tenant) ?? 0) + 1);
    }
    b.flow = x.flow;
    if (mine !== undefined) b.mine = mine;
    // A copy for a new app may be older than what this one heard since: the later expiry stands.
    b.ids.set(id, mine === undefined ? Math.max(b.ids.get(id) ?? 0, x.expiresAt) : x.expiresAt);
    this.#where.set(where, key);
    this.#nextExpiry = Math.min(this.#nextExpiry, x.expiresAt);
  }

  #remove(flow: RegisterFlow, aor: string): void {
    const key = flowKeyOf(flow);
    const b = this.#flows.get(key);
    if (b === undefined || b.flow.tenant !== flow.tenant) return;
    for (const id of [...b.ids.keys()]) if (id.slice(0, id.indexOf('\n')) === aor) this.#unbind(key, id);
  }

  #unbind(key: string, id: string): void {
    const b = this.#flows.get(key);
    if (b === undefined) return;
    b.ids.delete(id);
    this.#where.delete(`${b.flow.tenant}\n${id}`);
    if (b.ids.size === 0) this.#drop(key);
  }

  #drop(key: string): void {
    const b = this.#flows.get(key);
    if (!b) return;
    for (const id of b.ids.keys()) this.#where.delete(`${b.flow.tenant}\n${id}`);
    this.#flows.delete(key);
    const n = (this.#perTenant.get(b.flow.tenant) ?? 1) - 1;
    if (n > 0) this.#perTenant.set(b.flow.tenant, n);
    else this.#perTenant.delete(b.flow.tenant);
  }

  #sweep(): void {
    const now = this.#clock.now();
    if (now < this.#nextExpiry) return;
    let next = Infinity;
    for (const [key, b] of [...this.#flows]) {
      for (const [id, until] of [...b.ids]) {
        if (until <= now) this.#unbind(key, id);
        else next = Math.min(next, until);
      }
    }
    this.#nextExpiry = next;
  }
}
