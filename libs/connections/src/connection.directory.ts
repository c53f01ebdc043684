import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { LOGGER } from '#sessiongate/observability';
import { ConnectionClient } from './connection.client.js';
import { ConnectionError, ConnectionErrorCode } from './connection.errors.js';

/** The configured connections (CONNECTIONS), each with its provider's client, prepared before the gateway serves. */
@Injectable()
export class ConnectionDirectory implements OnModuleInit {
  private readonly clients: ReadonlyMap<string, ConnectionClient>;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(LOGGER) logger: Logger) {
    this.clients = new Map(
      config.connections.map((connection) => [connection.name, new ConnectionClient(connection, config.oidc.allowInsecureHttp, logger)]),
    );
  }

  /** A provider that answers discovery with nonsense stops the start, naming CONNECTIONS; one that is down does not. */
  async onModuleInit(): Promise<void> {
    await Promise.all([...this.clients.values()].map((connection) => connection.prepare()));
  }

  get all(): readonly ConnectionClient[] {
    return [...this.clients.values()];
  }

  /** The connection called `name`, or 404 connection_not_found. */
  get(name: string): ConnectionClient {
    const connection = this.clients.get(name);
    if (!connection)
      throw new ConnectionError(ConnectionErrorCode.ConnectionNotFound, { detail: `no connection ${JSON.stringify(name.slice(0, 64))}` });
    return connection;
  }
}
