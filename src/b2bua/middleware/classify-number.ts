import { classifyNumber as classify, normalizeNumber, orderCategories } from '../../policy/index.js';
import { localsOf, type Middleware, type PipelineDeps } from '../pipeline-types.js';
import { calledUser } from '../sip-user.js';

export { calledUser };

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
