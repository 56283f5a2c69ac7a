/**
 * A Map for state that comes and goes per call (transactions, dialogs, pending requests), with Map's API and
 * iteration order, whose values do not outlive their entry in the young generation.
 *
 * V8's Map (and Set) keeps its entries in insertion order and never reuses a deleted slot, so a map with steady
 * additions and deletions rebuilds its hash table every few hundred operations; the table it leaves behind keeps
 * the entries it held then and a link to its successor. Once one table of a long-lived map has been promoted, each
 * discarded table is an old object that the young collector must treat as a root until the next full collection:
 * every value that was in the map at a rebuild is kept and promoted with all it reaches, however short its life
 * (a churning Map in a loop: 4.4 GB promoted against 50 MB here; docs/performance.md). Here the Map holds only
 * the key and a slot number; the value sits in an array slot that delete() clears, so a discarded table keeps
 * keys alive, never the call objects behind them.
 */
export class SlotMap<K, V> implements Map<K, V> {
  readonly #index = new Map<K, number>();
  #values: (V | undefined)[] = [];
  #free: number[] = [];

  get size(): number {
    return this.#index.size;
  }

  get [Symbol.toStringTag](): string {
    return 'SlotMap';
  }

  get(key: K): V | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#values[i];
  }

  has(key: K): boolean {
    return this.#index.has(key);
  }

  set(key: K, value: V): this {
    let i = this.#index.get(key);
    if (i === undefined) {
      i = this.#free.length > 0 ? this.#free.pop()! : this.#values.length;
      this.#index.set(key, i);
    }
    this.#values[i] = value;
    return this;
  }

  delete(key: K): boolean {
    const i = this.#index.get(key);
    if (i === undefined) return false;
    this.#index.delete(key);
    this.#values[i] = undefined;
    this.#free.push(i);
    return true;
  }

  clear(): void {
    this.#index.clear();
    this.#values = [];
    this.#free = [];
  }

  forEach(fn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const [k, i] of this.#index) fn.call(thisArg, this.#values[i] as V, k, this);
  }

  keys(): MapIterator<K> {
    return this.#index.keys();
  }

  *values(): MapIterator<V> {
    for (const i of this.#index.values()) yield this.#values[i] as V;
  }

  *entries(): MapIterator<[K, V]> {
    for (const [k, i] of this.#index) yield [k, this.#values[i] as V];
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}
