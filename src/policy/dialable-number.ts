import { checkPermission } from './check-permission.js';
import { classifyNumber } from './classify-number.js';
import type { PermissionCategory, PermissionSet } from './types.js';

/** A number the gateway dials: digits, with a leading `+` for a global number (RFC 3966 §5.1.4 global-number-digits). */
const NUMBER = /^\+?[0-9]+$/;

/** A feature code (a vertical service code such as `*72#`, a GSM supplementary service such as `#31#`): `*` or `#`, then digits, `*` and `#`. */
const FEATURE = /^[*#][0-9*#]*$/;

/** Longest code a feature prefix names before the number it carries: `*67`, `#31#` (the digits after `*` or `#`). */
const MAX_PREFIX_DIGITS = 3;

/**
 * What a normalised called number is: `number` (digits with an optional leading `+`), `feature` (a feature code), or
 * undefined for anything else, which no carrier dials as the policy classified it (`1900p5551234`, `19005551234#`, a
 * letter, a character past ASCII), so the call is refused (middleware/classify-number.ts, 484).
 */
export function dialableKind(number: string): 'number' | 'feature' | undefined {
  if (NUMBER.test(number)) return 'number';
  if (FEATURE.test(number)) return 'feature';
  return undefined;
}

/**
 * The numbers a feature code may carry to the far end, each classified as the code itself is: every run of digits in
 * it, and that run with its first one to three digits taken away (the code before the number, `*67` in
 * `*6719005551234`, `#31#` in `#31#19005551234`, `*72` before a forwarding target). A prefix cannot hide a number from
 * the categories that deny it.
 */
export function featureNumbers(code: string): string[] {
  const out = new Set<string>();
  for (const run of code.split(/[*#]+/)) {
    for (let cut = 0; cut <= MAX_PREFIX_DIGITS && cut < run.length; cut++) out.add(run.slice(cut));
  }
  out.delete(code);
  return [...out];
}

/**
 * The category that decides a call to `number` (normalised; `categories` in the order they are checked): its own
 * category, unless it is a feature code, whose carried numbers are classified too and the first category the
 * permissions deny among them all decides (else its own, else the first any of them is in). Undefined when the number
 * and all it carries are in no category.
 */
export function decidingCategory(number: string, categories: readonly PermissionCategory[], permissions: PermissionSet): string | undefined {
  const own = classifyNumber(number, categories, { ordered: true })?.category.name;
  if (dialableKind(number) !== 'feature') return own;
  const found = [own, ...featureNumbers(number).map((n) => classifyNumber(n, categories, { ordered: true })?.category.name)]
    .filter((c): c is string => c !== undefined);
  return found.find((c) => !checkPermission(c, permissions).ok) ?? own ?? found[0];
}
