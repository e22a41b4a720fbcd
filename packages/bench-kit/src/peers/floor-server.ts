/**
 * The "floor" server: bare `node:http`, and per request one Redis Lua call that buffers the body
 * (hash + per-environment list + a trip counter with a window), then a 200 with the new id. It is what
 * an accept path costs with nothing but HTTP parsing and one Redis round trip.
 * Env: PORT, REDIS_URL, KEY_PREFIX. Prints "floor ready" when listening.
 */
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

const BUFFER_WRITE = `
redis.call('HSET', KEYS[1], 'payload', ARGV[2], 'createdAt', ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[1])
local n = redis.call('INCR', KEYS[3])
if n == 1 then redis.call('PEXPIRE', KEYS[3], 200) end
return n`;

const prefix = process.env.KEY_PREFIX ?? "";
if (!prefix) throw new Error("KEY_PREFIX is required");
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
redis.defineCommand("bufferWrite", { numberOfKeys: 3, lua: BUFFER_WRITE });
const write = (redis as unknown as { bufferWrite: (...args: string[]) => Promise<number> }).bufferWrite.bind(redis);
const idBase = randomBytes(4).toString("hex");
let seq = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    let body: { payload?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { payload?: unknown };
    } catch {
      res.writeHead(400, { "content-type": "application/json" }).end('{"error":"invalid JSON"}');
      return;
    }
    const id = `run_${idBase}${(seq++).toString(36)}`;
    const env = req.headers.authorization ?? "anonymous";
    write(`${prefix}entry:${id}`, `${prefix}queue:${env}`, `${prefix}trip:${env}`, id, JSON.stringify(body.payload ?? null), String(Date.now())).then(
      () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id })),
      (error: Error) => res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: error.message })),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log("floor ready");
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => {
    redis.disconnect();
    process.exit(0);
  });
});
