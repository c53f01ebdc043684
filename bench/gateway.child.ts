import 'reflect-metadata';
import { loadConfig } from '#sessiongate/config';
import { type RunningGateway, startGateway } from '#sessiongate/gateway';
import { serveChild } from './child-process.js';

/** The real gateway (the production entry point's `loadConfig` + `startGateway`), configured by the environment-style settings it is sent. */
let gateway: RunningGateway | undefined;

serveChild({
  async start(payload) {
    gateway = await startGateway(loadConfig(payload as Record<string, string>));
    return gateway.url;
  },
  async stop() {
    await gateway?.close();
  },
});
