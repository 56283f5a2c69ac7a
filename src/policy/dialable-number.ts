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
 * undefined for anything else (`1900p5551234`, `19005551234#`, a name, a character past ASCII), which decidingCategory
 * classifies by every reading a carrier may make of it.
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
 * What a carrier may read in a called number that is not dialable as written (`1900p5551234`, `19005551234#`,
 * `011442071234,5`, fullwidth digits, a name with digits): the number in compatibility form (NFKC: `１` is `1`), then its
 * digits alone with a leading `+` kept, and its digits with `*` and `#` kept (a feature code hidden in decoration).
 */
export function readings(number: string): string[] {
  const n = number.normalize('NFKC');
  const plus = /^[^0-9]*\+/.test(n) ? '+' : '';
  const digits = n.replace(/[^0-9]/g, '');
  const withCodes = n.replace(/[^0-9*#]/g, '');
  const out = new Set([n, digits === '' ? '' : plus + digits, withCodes]);
  out.delete('');
  out.delete(number);
  return [...out];
}

/**
 * The category that decides a call to `number` (normalised; `categories` in the order they are checked). A dialable
 * number: its own category. A feature code, and a number that is not dialable as written (a name, or digits among
 * other characters): its own category and those of every number it may carry or be read as (featureNumbers,
 * readings) are found, and the first the permissions deny decides (else its own, else the first found). So no
 * decoration or prefix hides a number from a category that denies it; a name without digits (`alice`) is in none.
 * Undefined when the number and all it carries are in no category.
 */
export function decidingCategory(number: string, categories: readonly PermissionCategory[], permissions: PermissionSet): string | undefined {
  const own = classifyNumber(number, categories, { ordered: true })?.category.name;
  const kind = dialableKind(number);
  if (kind === 'number') return own;
  const forms = kind === 'feature' ? featureNumbers(number) : readings(number).flatMap((r) => (dialableKind(r) === 'feature' ? [r, ...featureNumbers(r)] : [r]));
  const found = [own, ...forms.map((n) => classifyNumber(n, categories, { ordered: true })?.category.name)]
    .filter((c): c is string => c !== undefined);
  return found.find((c) => !checkPermission(c, permissions).ok) ?? own ?? found[0];
}
