// The yardstick of every benchmark: a bare Koa server answering "hello", run as its own process like
// the gateway, so that figures can be given as ratios measured on the same machine in the same run.

import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  ctx.body = 'hello';
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
