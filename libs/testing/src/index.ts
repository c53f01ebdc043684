export { freePort } from './free-port.js';
export { startRedis, type RedisFixture } from './redis.fixture.js';
