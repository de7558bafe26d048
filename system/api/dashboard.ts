// GET /students/:id/dashboard, read through the Redis cache. The cache is an optimisation only:
// when Redis is away the view comes from Postgres; a stale view can never be stored because the
// set is conditional on the invalidation generation read BEFORE the database query.
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { type DashboardView, dashboardCacheKey } from '../contracts/index.ts';
import { Batcher, settleEach } from '../lib/batcher.ts';
import type { Pool } from '../lib/db.ts';
import { isTransient } from '../lib/errors.ts';
import type { FaultSet } from '../lib/faults.ts';
import type { Authenticator } from './auth.ts';
import { sendError } from './errors.ts';
import { uuidParam } from './schemas.ts';

const cacheTtlS = 3600;

// SET only if the generation is still the one read before the query.
const setIfGenerationLua = `
local g = redis.call('GET', KEYS[2]) or '0'
if g == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end
return 0`;

// One statement for every dashboard of a batch (see dashboardReader): a row per known student.
export const dashboardSql = `
SELECT s.id AS "studentId",
  COALESCE((SELECT json_agg(json_build_object('purchaseId', p.id, 'courseId', p.course_id, 'purchaseTier', p.purchase_tier)
            ORDER BY p.course_id, p.id)
     FROM student_course_purchases p WHERE p.student_id = s.id AND p.is_active), '[]') AS purchases,
  COALESCE((SELECT json_agg(json_build_object('allocationId', a.id, 'courseId', a.course_id, 'trainerId', a.trainer_id, 'status', a.status)
            ORDER BY a.course_id, a.id)
     FROM trainer_allocations a WHERE a.student_id = s.id), '[]') AS allocations,
  COALESCE((SELECT json_agg(json_build_object('allocationId', t.allocation_id, 'seq', t.seq, 'date', t.scheduled_date, 'time', t.scheduled_time)
            ORDER BY t.scheduled_date, t.allocation_id, t.seq)
     FROM tutoring_sessions t WHERE t.student_id = s.id AND t.status = 'scheduled'), '[]') AS "upcomingSessions"
FROM students s WHERE s.id = ANY($1::uuid[])`;

/**
 * Reads dashboards from the database: concurrent reads ride together in one statement while every
 * slot is busy (system/lib/batcher.ts), one query per batch instead of one per request (docs/
 * benchmarks.md, twenty-first round); a lone read runs at once. Resolves undefined for an unknown
 * student.
 */
export function dashboardReader(pool: Pool, { slots = 4, maxBatch = 64 } = {}) {
  const readAll = async (ids: readonly string[]) => {
    const r = await pool.query<DashboardView>(dashboardSql, [[...new Set(ids)]]);
    const byId = new Map(r.rows.map((x) => [x.studentId, x]));
    // PostgreSQL answers a uuid in lower case, whatever case it was asked in.
    return ids.map((id) => byId.get(id.toLowerCase()));
  };
  const batcher = new Batcher<string, DashboardView | undefined>(
    (ids) => settleEach(ids, readAll, async (id) => (await readAll([id]))[0], isTransient),
    { slots, maxBatch },
  );
  return (studentId: string) => batcher.submit(studentId);
}

export function registerDashboardRoutes(
  app: FastifyInstance,
  pool: Pool,
  redis: Redis,
  auth: Authenticator,
  faults: FaultSet,
) {
  // Planted bug no-ownership-check: any student reads any dashboard.
  const ownershipChecked = !faults.has('no-ownership-check');
  const readDashboard = dashboardReader(pool);
  app.get<{ Params: { id: string } }>(
    '/students/:id/dashboard',
    { schema: { params: uuidParam }, onRequest: auth.hook, config: { rateLimit: {} } },
    async (req, reply) => {
      const studentId = req.params.id;
      if (ownershipChecked && studentId !== req.principal)
        return sendError(reply, 403, 'forbidden', 'a student reads only their own dashboard');
      const key = dashboardCacheKey(studentId);
      let generation: string | undefined;
      try {
        const [cached, gen] = await redis.mget(key, `${key}:gen`);
        if (cached) {
          reply.header('x-cache', 'hit');
          return (JSON.parse(cached) as { view: DashboardView }).view;
        }
        generation = gen ?? '0';
      } catch {
        // Redis unavailable: serve from the database, do not cache.
      }
      let viewRow: DashboardView | undefined;
      try {
        viewRow = await readDashboard(studentId);
      } catch (err) {
        if (isTransient(err))
          return sendError(reply, 503, 'database_unavailable', 'the database is unavailable; retry later');
        throw err;
      }
      if (!viewRow) return sendError(reply, 404, 'unknown_student', `no student ${studentId}`);
      if (generation !== undefined) {
        await redis
          .eval(
            setIfGenerationLua,
            2,
            key,
            `${key}:gen`,
            generation,
            JSON.stringify({ gen: generation, view: viewRow }),
            cacheTtlS,
          )
          .catch(() => {});
      }
      reply.header('x-cache', 'miss');
      return viewRow;
    },
  );
}
