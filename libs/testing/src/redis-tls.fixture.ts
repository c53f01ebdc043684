import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { keepingNothing, killRedis, launchRedis, onlyAclUser } from './redis.fixture.js';

const run = promisify(execFile);

export interface TlsRedisFixture {
  /** `rediss://<user>:<password>@localhost:<port>`: the ACL user the server accepts (its default user is off). */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** The PEM of the private CA that signed the server's certificate (for localhost and 127.0.0.1). */
  readonly caFile: string;
  stop(): Promise<void>;
}

/** A private redis-server speaking only TLS, with a certificate from a throwaway CA and one ACL user. */
export async function startTlsRedis(): Promise<TlsRedisFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-redis-tls-'));
  const file = (name: string) => join(dir, name);
  let server: ChildProcess | undefined;
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=sessiongate test CA',
    ]);
    await run('openssl', [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      file('server.key'),
      '-out',
      file('server.csr'),
      '-subj',
      '/CN=localhost',
    ]);
    await writeFile(file('san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file('server.pem'),
      '-days',
      '1',
      '-extfile',
      file('san.cnf'),
    ]);
    const port = await freePort();
    const [username, password] = ['gateway', `pw-${Math.random().toString(36).slice(2)}`];
    server = await launchRedis([
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      ...keepingNothing(dir),
      '--tls-cert-file',
      file('server.pem'),
      '--tls-key-file',
      file('server.key'),
      '--tls-ca-cert-file',
      file('ca.pem'),
      '--tls-auth-clients',
      'no',
      ...onlyAclUser(username, password, ['~sg:*']),
    ]);
    const running = server;
    return {
      url: `rediss://${username}:${password}@localhost:${port}`,
      username,
      password,
      caFile: file('ca.pem'),
      async stop() {
        await killRedis(running);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (server) await killRedis(server);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
