import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { serveChild } from './child-process.js';

export interface BareProxyOptions {
  readonly upstream: string;
  /** The gateway's route prefix and upstream base path, so that both forward the same URLs the same way. */
  readonly prefix: string;
  readonly rewritePrefix: string;
}

/** The baseline: `@fastify/http-proxy` with its defaults, no logging and no authentication at all. */
const app = Fastify({ logger: false });

serveChild({
  async start(payload) {
    const { upstream, prefix, rewritePrefix } = payload as BareProxyOptions;
    await app.register(fastifyHttpProxy, { upstream, prefix, rewritePrefix });
    return app.listen({ port: 0, host: '127.0.0.1' });
  },
  stop: () => app.close(),
});
