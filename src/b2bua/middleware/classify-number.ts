import { classifyNumber as classify, normalizeNumber, orderCategories } from '../../policy/index.js';
import { localsOf, type Middleware, type PipelineDeps } from '../pipeline-types.js';

/** The user part of a sip:, sips: or tel: Request-URI, percent-decoded, without user parameters. */
export function calledUser(uri: string): string | undefined {
  const m = /^(?:sips?:([^@?>]+)@|tel:([^;?>]+))/i.exec(uri.trim());
  // User parameters after the number (`;npdi`, `;rn=`) are not part of it: the number ends at ';'.
  const raw = (m?.[1] ?? m?.[2])?.split(';')[0];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Step: the called number (the Request-URI user, normalised) and its permission category, if any. */
export function classifyNumber(deps: PipelineDeps): Middleware {
  const categories = orderCategories(deps.policy.categories);
  return (req, _res, next) => {
    const locals = localsOf(req);
    const number = normalizeNumber(calledUser(req.uri) ?? '');
    locals.calledNumber = number;
    const c = number === '' ? undefined : classify(number, categories, { ordered: true });
    if (c) locals.category = c.category.name;
    next();
  };
}
