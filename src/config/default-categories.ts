import type { PermissionCategory } from '../policy/types.js';

/**
 * The built-in dial-plan categories (sipXecs's permission names, camelCased), for the North American
 * numbering plan, over numbers normalised by the policy layer (separators gone, a leading + kept).
 * Checked in `order`; a configuration may change any field of one, or empty its patterns to disable it.
 * `mobile` ships empty: NANP mobile numbers share the geographic area codes, so only a country's own plan
 * can tell them apart (example in profiles/permissions.yaml).
 */
export const BUILTIN_CATEGORIES: readonly PermissionCategory[] = Object.freeze([
  // 8YY toll-free: 800, 833, 844, 855, 866, 877, 888, with or without 1 / +1.
  { name: 'tollFree', order: 10, default: true, patterns: ['^(\\+?1)?8(00|33|44|55|66|77|88)[2-9]\\d{6}$'] },
  { name: '900Dialing', order: 20, default: false, patterns: ['^(\\+?1)?900[2-9]\\d{6}$'] },
  // 011 is the NANP international prefix; in E.164 form every country code but 1.
  { name: 'international', order: 30, default: false, patterns: ['^011\\d{4,}$', '^\\+(?!1)\\d{4,}$'] },
  { name: 'mobile', order: 40, default: true, patterns: [] },
  { name: 'longDistance', order: 50, default: true, patterns: ['^\\+?1[2-9]\\d{2}[2-9]\\d{6}$'] },
  // Ten-digit and seven-digit local dialling.
  { name: 'local', order: 60, default: true, patterns: ['^[2-9]\\d{2}[2-9]\\d{6}$', '^[2-9]\\d{6}$'] },
].map((c) => Object.freeze({ ...c, patterns: Object.freeze(c.patterns) })));

export const BUILTIN_CATEGORY_NAMES: ReadonlySet<string> = new Set(BUILTIN_CATEGORIES.map((c) => c.name));
