import { createServer } from 'node:net';

/** Fixed ports for `npm run stack` / `npm run system`, each overridable by environment variable. */
export const defaultPorts = {
  postgres: 55432,
  postgresProxy: 5432,
  kafkaInternal: 59092,
  kafkaExternal: 59093,
  kafkaController: 59094,
  kafkaProxy: 9092,
  redis: 56379,
  redisProxy: 6379,
  toxiproxy: 8474,
} as const;

export type Ports = { -readonly [K in keyof typeof defaultPorts]: number };

const envNames: Record<keyof Ports, string> = {
  postgres: 'PAYPROOF_PG_PORT',
  postgresProxy: 'PAYPROOF_PG_PROXY_PORT',
  kafkaInternal: 'PAYPROOF_KAFKA_INTERNAL_PORT',
  kafkaExternal: 'PAYPROOF_KAFKA_EXTERNAL_PORT',
  kafkaController: 'PAYPROOF_KAFKA_CONTROLLER_PORT',
  kafkaProxy: 'PAYPROOF_KAFKA_PORT',
  redis: 'PAYPROOF_REDIS_PORT',
  redisProxy: 'PAYPROOF_REDIS_PROXY_PORT',
  toxiproxy: 'PAYPROOF_TOXIPROXY_PORT',
};

export function fixedPorts(env: NodeJS.ProcessEnv = process.env): Ports {
  const ports = { ...defaultPorts } as Ports;
  for (const key of Object.keys(envNames) as (keyof Ports)[]) {
    const raw = env[envNames[key]];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0 || n > 65535)
      throw new Error(`${envNames[key]}=${raw} is not a port number`);
    ports[key] = n;
  }
  return ports;
}

/** A port the kernel says is free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on `port` on 127.0.0.1 (binding it succeeds). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Free ports for every service, distinct from each other, so several stacks can run side by side. */
export async function freePorts(): Promise<Ports> {
  const seen = new Set<number>();
  const ports = {} as Ports;
  for (const key of Object.keys(defaultPorts) as (keyof Ports)[]) {
    let p = await freePort();
    while (seen.has(p)) p = await freePort();
    seen.add(p);
    ports[key] = p;
  }
  return ports;
}
