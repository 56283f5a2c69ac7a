import type { PermissionCategory } from '../policy/types.js';
import type { PermissionCategoryConfig } from './permission-schema.js';
import { BUILTIN_CATEGORIES } from './default-categories.js';
import type { PathProblem } from './cross-check.js';
import type { DeepReadonly } from './deep-freeze.js';

/**
 * The categories `classifyNumber` checks, in order: the built-ins with the configuration's changes, and
 * the configuration's new categories (order 0 unless given, so before the built-ins). Sorted by `order`,
 * ties in built-in then file order.
 */
export function effectiveCategories(permissions: Readonly<Record<string, PermissionCategoryConfig | DeepReadonly<PermissionCategoryConfig>>>): {
  categories: PermissionCategory[];
  problems: PathProblem[];
} {
  const problems: PathProblem[] = [];
  const list: PermissionCategory[] = [];
  for (const b of BUILTIN_CATEGORIES) {
    const u = permissions[b.name];
    list.push(u ? { name: b.name, patterns: u.patterns ?? b.patterns, default: u.default ?? b.default, order: u.order ?? b.order ?? 0 } : b);
  }
  for (const [name, u] of Object.entries(permissions)) {
    if (BUILTIN_CATEGORIES.some((b) => b.name === name)) continue;
    if (u.patterns === undefined) {
      problems.push({ code: 'ERR_CONFIG_SCHEMA', path: ['permissions', name, 'patterns'], message: 'a new category needs patterns' });
      continue;
    }
    list.push({ name, patterns: u.patterns, default: u.default ?? false, order: u.order ?? 0 });
  }
  const categories = list.map((c, i) => ({ c, i })).sort((a, b) => (a.c.order ?? 0) - (b.c.order ?? 0) || a.i - b.i).map((x) => x.c);
  return { categories, problems };
}
