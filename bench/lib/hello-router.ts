// The second yardstick of the layers bench: bare Koa plus one @koa/router answering "hello" on one
// route, so that the cost of routing alone can be told apart from the gateway's own middleware.

import Router from '@koa/router';
import Koa from 'koa';

const app = new Koa();
const router = new Router();
router.get('/', (ctx) => {
  ctx.body = 'hello';
});
app.use(router.routes());
const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
