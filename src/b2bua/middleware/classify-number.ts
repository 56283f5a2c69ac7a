import { classifyNumber as classify, normalizeNumber, orderCategories } from '../../policy/index.js';
import { localsOf, type Middleware, type PipelineDeps } from '../pipeline-types.js';
import { addressUser, calledUser } from '../../policy/uri-user.js';

export { calledUser };

/**
 * Step: the called number (the Request-URI user, normalised) and its permission category, if any. A call to a
 * registration trunk's contact has the contact user in its Request-URI (the registrar put the binding there): its
 * number is the To user, the number the carrier's caller dialled.
 */
export function classifyNumber(deps: PipelineDeps): Middleware {
  const categories = orderCategories(deps.policy.categories);
  return (req, _res, next) => {
    const locals = localsOf(req);
    const user = locals.tenantSource === 'registration' ? addressUser(req.get('To')) ?? calledUser(req.uri) : calledUser(req.uri);
    const number = normalizeNumber(user ?? '');
    locals.calledNumber = number;
    const c = number === '' ? undefined : classify(number, categories, { ordered: true });
    if (c) locals.category = c.category.name;
    next();
  };
}
