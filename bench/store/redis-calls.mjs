/**
 * What one call costs Redis itself: redis-server's CPU time (INFO cpu) per call, for the
 * calls a store-mode request makes and the plain commands they stand beside. Batches of
 * 20,000 calls on one node-redis client (pipelined), median of 5 batches. Uses the Redis at
 * 127.0.0.1:6379 (REDIS_URL to change it), under a key of its own, deleted at the end.
 *
 *   npm run build && node bench/store/redis-calls.mjs
 */
import { createClient } from 'redis';
import { SCRIPTS } from '../../dist/store/redis-scripts.js';

const client = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
  .on('error', () => undefined)
  .connect();
const prefix = `sealed-session-redis-calls:${process.pid}:`;
const key = `${prefix}{abc}:abc`;
const FIELDS = {
  c: '1',
  s: '2',
  e: '9999999999999',
  'd:user': '{"id":42,"name":"Ada Lovelace","email":"ada@example.com"}',
  'd:roles': '["admin","editor"]',
  'd:count': '7',
};

/** redis-server's CPU time so far, in seconds. */
async function redisCpu() {
  const info = await client.info('cpu');
  const sys = /used_cpu_sys:([\d.]+)/.exec(info);
  const user = /used_cpu_user:([\d.]+)/.exec(info);
  if (sys === null || user === null) throw new Error('INFO cpu has no used_cpu_sys/user');
  return Number(sys[1]) + Number(user[1]);
}

/**
 * @param {string} label
 * @param {() => Promise<unknown>} call
 */
async function measure(label, call, calls = 20_000) {
  const perCall = [];
  for (let batch = 0; batch < 5; batch++) {
    const before = await redisCpu();
    await Promise.all(Array.from({ length: calls }, call));
    perCall.push((((await redisCpu()) - before) * 1e6) / calls);
  }
  perCall.sort((a, b) => a - b);
  console.log(`${label.padEnd(48)} ${(perCall[2] ?? NaN).toFixed(2)} µs`);
}

const bareHgetall = await client.scriptLoad("return redis.call('HGETALL', KEYS[1])");
await client.scriptLoad(SCRIPTS.write.source);
await client.hSet(key, FIELDS);
await client.pExpireAt(key, Date.now() + 3_600_000);
let count = 7;
console.log('Redis CPU per call (median of 5 batches of 20,000):');
await measure('GET of a missing key', () => client.get(`${prefix}missing`));
await measure('HGETALL of a session record (a store read)', () =>
  client.sendCommand(['HGETALL', key]),
);
await measure('the same HGETALL from a one-line script', () =>
  client.sendCommand(['EVALSHA', bareHgetall, '1', key]),
);
await measure('HSET of one field', () => client.sendCommand(['HSET', key, 'd:count', '8']));
await measure('the write script, one key changed, same end', () =>
  client.sendCommand([
    'EVALSHA',
    SCRIPTS.write.sha,
    '1',
    key,
    prefix,
    'abc',
    'update',
    '1',
    '2',
    '9999999999999',
    '9999999999999',
    '',
    '1',
    'd:count',
    String(++count),
  ]),
);
await client.del(key);
await client.quit();
