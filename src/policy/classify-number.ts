import { normalizeNumber } from './normalize-number.js';
import { compilePattern } from './pattern-cache.js';
import type { PermissionCategory } from './types.js';

export interface Classification {
  readonly category: PermissionCategory;
  /** The pattern that matched. */
  readonly pattern: string;
  /** The number as matched (normalised). */
  readonly number: string;
}

/** Categories in the order they are checked: by `order` (absent counts as 0), then as given. */
export function orderCategories(categories: readonly PermissionCategory[]): PermissionCategory[] {
  return categories
    .map((c, i) => ({ c, i }))
    .sort((a, b) => (a.c.order ?? 0) - (b.c.order ?? 0) || a.i - b.i)
    .map((x) => x.c);
}

/**
 * The first category (in `order`, then list order) with a pattern matching the normalised number, or
 * undefined when none does. `categories` is used in the order given when `ordered` is true (already sorted).
 */
export function classifyNumber(
  number: string,
  categories: readonly PermissionCategory[],
  opts: { ordered?: boolean } = {},
): Classification | undefined {
  const n = normalizeNumber(number);
  const list = opts.ordered ? categories : orderCategories(categories);
  for (const category of list) {
    for (const pattern of category.patterns) {
      if (compilePattern(pattern).test(n)) return { category, pattern, number: n };
    }
  }
  return undefined;
}
