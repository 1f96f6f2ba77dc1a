// The customers' calls are dispatched without the router (http/customer-paths.ts): for every path, the
// dispatcher names the same route and the same decoded parameter as @koa/router does for a POST.

import { expect } from 'chai';
import { customerPaths } from '../src/http/customer-paths.ts';
import { BASE, gmsRoutes } from '../src/http/gms-routes.ts';
import type { ChatDomain } from '../src/chat/chat-service.ts';
import { RateLimiter } from '../src/http/rate-limit.ts';

describe('the customer call a path names', () => {
  const { router } = gmsRoutes(
    {} as ChatDomain,
    () => undefined,
    new RateLimiter({ perIp: { perSecond: 0, burst: 1 }, perSession: { perSecond: 0, burst: 1 }, exempt: [] }),
  );
  const routes = router.stack.filter((layer) => layer.methods.length > 0).map((layer) => String(layer.path).slice(BASE.length));
  const match = customerPaths(BASE, routes);

  /** The route and parameter the router finds for a POST to `path`. */
  const routerMatch = (path: string) => {
    const layer = router
      .match(path, 'POST')
      .pathAndMethod.filter((l) => l.methods.length > 0)
      .at(-1);
    if (!layer) return undefined;
    const [param] = Object.values(layer.params(path, layer.captures(path), {}));
    return { route: String(layer.path).slice(BASE.length), param };
  };

  it('is the one the router finds, for every spelling of every route and of paths near them', () => {
    const heads = [BASE, '/Genesys/1/SERVICE', `${BASE}x`, '/genesys/1'];
    const segments = ['abc', 'A%20b', '%E0%A4%A', 'ixn', 'IXN', 'Chat', 'send', 'refreshFromStart', ''];
    let checked = 0;
    let found = 0;
    const walk = (path: string, depth: number): void => {
      for (const end of ['', '/', '//']) {
        const full = path + end;
        const expected = routerMatch(full);
        expect(match(full), full).to.deep.equal(expected);
        checked++;
        if (expected) found++;
      }
      if (depth > 0) for (const segment of segments) walk(`${path}/${segment}`, depth - 1);
    };
    for (const head of heads) walk(head, 4);
    expect(found).to.be.above(200);
    expect(checked).to.be.above(50_000);
  });

  it('refuses routes that are not a parameter followed by literal segments', () => {
    expect(() => customerPaths(BASE, ['/ixn/:id'])).to.throw();
    expect(() => customerPaths(BASE, ['/:id/:op'])).to.throw();
  });
});
