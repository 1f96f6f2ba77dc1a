// Which customer call a request path names, matched as @koa/router matches the same routes (any case,
// one trailing slash allowed, the parameter percent-decoded), without trying a regular expression per
// route and composing middleware for every request: the customers' calls are most of the traffic.
// Routes have this shape: a prefix, then a parameter, then literal segments (`/:id/ixn/chat/send`).

export interface CustomerPath {
  /** The route, as registered (`/:id/ixn/chat/send`). */
  route: string;
  /** The parameter's value, decoded. */
  param: string;
}

/** A matcher of `prefix` + one of `routes`. */
export function customerPaths(prefix: string, routes: string[]): (path: string) => CustomerPath | undefined {
  const base = `${prefix.toLowerCase()}/`;
  const byTail = new Map<string, string>();
  for (const route of routes) {
    const tail = route.replace(/^\/:\w+/, '');
    if (tail === route || tail.includes(':')) throw new Error(`${route}: a parameter first, then literal segments only`);
    byTail.set(tail.toLowerCase(), route);
  }
  return (path) => {
    if (path.length <= base.length || path.slice(0, base.length).toLowerCase() !== base) return undefined;
    const end = path.endsWith('/') ? path.length - 1 : path.length;
    const slash = path.indexOf('/', base.length);
    const paramEnd = slash === -1 || slash > end ? end : slash;
    if (paramEnd === base.length) return undefined;
    const route = byTail.get(path.slice(paramEnd, end).toLowerCase());
    return route === undefined ? undefined : { route, param: decoded(path.slice(base.length, paramEnd)) };
  };
}

function decoded(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
