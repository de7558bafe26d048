// The pipeline's PostgreSQL backends yield like the pipeline's processes (harness/stack/
// backend-priority.ts): found by application_name, lowered only when they descend from the process
// the harness trusts, never the API's backends, never twice.
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BackendPriority, descendsFrom, yields } from '../../harness/stack/backend-priority.ts';
import { readProc } from '../../harness/stack/procfs.ts';

const stack = inject('stack');
const url = stack.direct.databaseUrl;
const autogroups = existsSync('/proc/self/autogroup');
const autogroupNice = (pid: number) =>
  Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))?.[1]);

const clients: pg.Client[] = [];
async function backend(applicationName: string): Promise<number> {
  const c = new pg.Client({ connectionString: url, application_name: applicationName });
  await c.connect();
  clients.push(c);
  return (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
}
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
});

describe.skipIf(!autogroups)('backend priority', () => {
  it("lowers the relay's and the workers' backends, not the API's, once each", async () => {
    const worker = await backend('session-worker-session-worker#1');
    const relay = await backend('relay-relay#1');
    const api = await backend('api-api#1');
    expect(autogroupNice(worker)).toBe(0);
    const postmaster = readProc(worker)!.ppid;
    const bp = new BackendPriority(url, { nice: 10, ancestor: postmaster });
    try {
      expect(await bp.pass()).toBeGreaterThanOrEqual(2);
      expect(autogroupNice(worker)).toBe(10);
      expect(autogroupNice(relay)).toBe(10);
      expect(autogroupNice(api)).toBe(0);
      // Already lowered: the next pass leaves them alone (a new pipeline backend would be lowered).
      const later = await backend('cache-worker-cache-worker#1');
      expect(await bp.pass()).toBe(1);
      expect(autogroupNice(later)).toBe(10);
    } finally {
      await bp.stop();
    }
  });

  it('never touches a backend that does not descend from the trusted process', async () => {
    const worker = await backend('purchase-worker-purchase-worker#1');
    // This test process did not start the shared stack's PostgreSQL: nothing of it is ours.
    expect(descendsFrom(worker, process.pid)).toBe(false);
    const bp = new BackendPriority(url, { nice: 10 });
    try {
      expect(await bp.pass()).toBe(0);
      expect(autogroupNice(worker)).toBe(0);
    } finally {
      await bp.stop();
    }
  });
});

describe('which backends yield', () => {
  it('the pipeline by name and autovacuum by type; never the API, the harness or the WAL writer', () => {
    const y = (application_name: string, backend_type = 'client backend') =>
      yields({ application_name, backend_type });
    expect(y('relay-relay#1')).toBe(true);
    expect(y('allocation-worker-allocation-worker#2')).toBe(true);
    expect(y('', 'autovacuum worker')).toBe(true);
    expect(y('api-api#1')).toBe(false);
    expect(y('payproof-load-setup')).toBe(false);
    expect(y('', 'walwriter')).toBe(false);
    expect(y('', 'checkpointer')).toBe(false);
  });
});
