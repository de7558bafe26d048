// The payment workload: one iteration = create a payment → confirm it → (maybe) read the dashboard
// → think. Knobs add the risky paths on purpose: a second payment for a pair that already bought,
// a confirm sent twice at once, a create resent with the same Idempotency-Key.
import { randomUUID } from 'node:crypto';
import type { DashboardView, PaymentView, ProviderWebhook } from '../../system/contracts/index.ts';
import { idempotencyHeader } from '../../system/contracts/index.ts';
import { onAbort } from '../lib/on-abort.ts';
import {
  type ProviderOptions,
  providerEvent,
  providerFromEnv,
  providerRedelivers,
  redeliveryDelayMs,
  signedWebhook,
} from '../lib/provider.ts';
import type { TokenBook } from '../lib/tokens.ts';
import type { IterationContext, IterationFn } from './executors.ts';
import type { RecordedResult, Recorder } from './operation.ts';
import { check, recordedRequest } from './operation.ts';
import type { ResolvedWorkload } from './profile.ts';
import { randomInt, seededRandom } from './rng.ts';

/** What the setup prepared: students of this run and the courses they buy. */
export interface Fixtures {
  readonly studentIds: readonly string[];
  readonly courseIds: readonly string[];
}

/** The check names, as they appear in the summary and in `checks{check:<name>}` thresholds. */
export const checkNames = {
  createStatus: 'create: status 201',
  createBody: 'create: body matches the request',
  retrySame: 'create retry: same payment',
  confirmStatus: 'confirm: status 200',
  confirmBody: 'confirm: succeeded with the providerPaymentId',
  doubleConfirmSame: 'double confirm: same result',
  dashboardStatus: 'dashboard: status 200',
  dashboardBody: "dashboard: the student's view",
  forgedRefused: 'forged webhook: refused (401)',
  lateRedelivery: 'late redelivery: the same answer, nothing changed',
  lateFailure: 'payment_failed after the capture: ignored (200, still succeeded)',
  foreignRefused: "another student's dashboard: refused (403)",
} as const;

/** What an attacker signs with: not the provider's secret. */
const forgerSecret = 'whsec_not_the_providers_secret_0000';

interface Pair {
  readonly studentId: string;
  readonly courseId: string;
}

function paymentExcerpt(body: unknown): Partial<PaymentView> {
  const p = (body ?? {}) as Partial<PaymentView>;
  return {
    id: p.id,
    status: p.status,
    studentId: p.studentId,
    courseId: p.courseId,
    amountCents: p.amountCents,
    currency: p.currency,
    providerPaymentId: p.providerPaymentId,
    createdAt: p.createdAt,
    confirmedAt: p.confirmedAt,
  };
}

function paymentIds(body: unknown): Record<string, string> | undefined {
  const id = (body as Partial<PaymentView> | null)?.id;
  return typeof id === 'string' ? { paymentId: id } : undefined;
}

function dashboardExcerpt(body: unknown) {
  const d = (body ?? {}) as Partial<DashboardView>;
  return {
    studentId: d.studentId,
    purchases: Array.isArray(d.purchases) ? d.purchases.length : null,
    allocations: Array.isArray(d.allocations) ? d.allocations.length : null,
    upcomingSessions: Array.isArray(d.upcomingSessions) ? d.upcomingSessions.length : null,
  };
}

/** Think time that ends early when `signal` aborts (one listener per signal: harness/lib/on-abort.ts). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      off();
      resolve();
    };
    const t = setTimeout(done, ms);
    const off = onAbort(signal, done);
  });
}

export interface WorkloadState {
  /** Pairs whose payment this run saw confirmed: candidates for a repeat purchase. */
  readonly bought: Pair[];
  freshUsed: number;
  readonly freshTotal: number;
}

/**
 * Builds the iteration function. Each iteration draws its choices from its own generator, seeded
 * with (seed, iteration), so the same seed makes the same choices for the same iteration number.
 */
export function paymentWorkload(
  rec: Recorder,
  fixtures: Fixtures,
  w: ResolvedWorkload,
  seed: number,
  tokens: TokenBook,
  provider: ProviderOptions = providerFromEnv(),
): { iterate: IterationFn; state: WorkloadState } {
  const { studentIds, courseIds } = fixtures;
  if (studentIds.length === 0 || courseIds.length === 0)
    throw new Error('the workload needs at least one student and one course');
  const state: WorkloadState = { bought: [], freshUsed: 0, freshTotal: studentIds.length * courseIds.length };
  // Pair k walks students first, then courses, so consecutive fresh purchases hit different students
  // (and so different Kafka keys) rather than one student buying every course at once.
  const freshPair = (): Pair | undefined => {
    if (state.freshUsed >= state.freshTotal) return undefined;
    const k = state.freshUsed++;
    return {
      studentId: studentIds[k % studentIds.length]!,
      courseId: courseIds[Math.floor(k / studentIds.length)]!,
    };
  };
  const boughtCap = 200_000;

  const iterate = async (ctx: IterationContext): Promise<void> => {
    const random = seededRandom((seed ^ Math.imul(ctx.iteration + 1, 0x9e3779b1)) >>> 0);
    const { signal, vu } = ctx;
    const wantRepeat = random() < w.repeatPurchase;
    let pair: Pair | undefined;
    let intent: 'fresh' | 'repeat' = 'fresh';
    if (wantRepeat && state.bought.length > 0) {
      pair = state.bought[randomInt(random, state.bought.length)];
      intent = 'repeat';
    }
    if (!pair) pair = freshPair();
    if (!pair) {
      // Fresh pairs used up (the run outlived the fixtures): buy again, and say so in the history.
      pair = {
        studentId: studentIds[randomInt(random, studentIds.length)]!,
        courseId: courseIds[randomInt(random, courseIds.length)]!,
      };
      intent = 'repeat';
    }
    const retry = random() < w.idempotentRetry;
    const concurrentRetry = retry && random() < w.concurrentRetry;
    const doubleConfirm = random() < w.doubleConfirm;
    const readDashboard = random() < w.dashboardRead;
    const forge = random() < w.forgedWebhook;
    const readForeign = random() < w.foreignRead;
    const thinkMs = w.thinkTimeMs * (1 + w.thinkJitter * (2 * random() - 1));
    const late = random() < w.lateProviderEvents;
    const lateDelayMs = 50 + 450 * random();
    const failureFirst = random() < 0.5;

    const idempotencyKey = randomUUID();
    const authorization = tokens.bearer(pair.studentId);
    // The price is the server's: the client names the course (and itself, which must be the token's).
    const body = { studentId: pair.studentId, courseId: pair.courseId };
    const create = (attempt: number, proc: string | number) =>
      recordedRequest(rec, {
        op: 'create',
        process: proc,
        method: 'POST',
        path: '/payments',
        json: body,
        headers: { [idempotencyHeader]: idempotencyKey, authorization },
        signal,
        ids: {
          studentId: pair.studentId,
          principal: pair.studentId,
          courseId: pair.courseId,
          idempotencyKey,
          attempt: String(attempt),
        },
        note: { intent },
        excerpt: paymentExcerpt,
        idsFrom: paymentIds,
      });

    let first: RecordedResult;
    let second: RecordedResult | undefined;
    if (concurrentRetry) [first, second] = await Promise.all([create(1, vu), create(2, `${vu}b`)]);
    else {
      first = await create(1, vu);
      if (retry && !signal.aborted) second = await create(2, vu);
    }
    const createOk = (r: RecordedResult) => {
      if (!check(rec, checkNames.createStatus, r.status === 201)) return false;
      const p = r.body as Partial<PaymentView>;
      return check(
        rec,
        checkNames.createBody,
        typeof p?.id === 'string' &&
          p.studentId === pair.studentId &&
          p.courseId === pair.courseId &&
          typeof p.amountCents === 'number' &&
          p.amountCents > 0 &&
          p.status === 'pending',
      );
    };
    const firstOk = createOk(first);
    const secondOk = second ? createOk(second) : false;
    if (second && firstOk && secondOk) {
      const a = first.body as PaymentView;
      const b = second.body as PaymentView;
      check(
        rec,
        checkNames.retrySame,
        a.id === b.id && a.createdAt === b.createdAt && a.amountCents === b.amountCents,
      );
    }
    const payment = (firstOk ? first.body : secondOk ? second?.body : undefined) as PaymentView | undefined;
    if (payment && !signal.aborted) {
      rec.metrics.addCount('payments_created', {}, 1, ctx.scheduledAtMs / 1_000);
      const providerPaymentId = `pi_${randomUUID()}`;
      // The student pays at the provider, which captures the payment's amount and tells the system
      // with a signed webhook; a double confirm is the provider delivering that event twice at once.
      const event = providerEvent(payment, { providerPaymentId });
      if (forge && !signal.aborted) {
        // An attacker's capture of the same payment, signed with a secret that is not the provider's.
        const fake = providerEvent(payment, { providerPaymentId: `forged_${randomUUID()}` });
        const forged = signedWebhook(fake, { secrets: [forgerSecret] });
        const r = await recordedRequest(rec, {
          op: 'confirm',
          tag: 'forged-webhook',
          expectedStatuses: [401],
          process: vu,
          method: 'POST',
          path: forged.path,
          body: forged.body,
          headers: forged.headers,
          signal,
          ids: {
            paymentId: payment.id,
            providerPaymentId: fake.data.providerPaymentId,
            providerEventId: fake.id,
            capturedCents: String(fake.data.amountCents),
            forged: 'true',
          },
          excerpt: paymentExcerpt,
        });
        check(rec, checkNames.forgedRefused, r.status === 401);
      }
      // One delivery as the provider makes it: again (same event id, fresh signature) after a 5xx,
      // a 429 or no answer, up to providerAttempts times with backoff; every attempt is in the history.
      const deliver = async (
        proc: string | number,
        e: ProviderWebhook,
        extra: { tag?: string; ids?: Record<string, string>; note?: Record<string, unknown> } = {},
      ): Promise<RecordedResult> => {
        let r: RecordedResult | undefined;
        for (let attempt = 1; attempt <= w.providerAttempts; attempt++) {
          await sleep(redeliveryDelayMs(attempt, 100), signal);
          if (signal.aborted && r) return r;
          const webhook = signedWebhook(e, provider);
          r = await recordedRequest(rec, {
            op: 'confirm',
            ...(extra.tag ? { tag: extra.tag } : {}),
            process: proc,
            method: 'POST',
            path: webhook.path,
            body: webhook.body,
            headers: webhook.headers,
            signal,
            ids: {
              paymentId: payment.id,
              studentId: pair.studentId,
              courseId: pair.courseId,
              providerPaymentId,
              providerEventId: e.id,
              providerEventType: e.type,
              attempt: String(attempt),
              ...extra.ids,
            },
            ...(extra.note ? { note: extra.note } : {}),
            excerpt: paymentExcerpt,
          });
          if (!providerRedelivers(r.status)) return r;
        }
        return r!;
      };
      const confirm = (proc: string | number) =>
        deliver(proc, event, {
          ids: { capturedCents: String(event.data.amountCents) },
          note: { capture: { amountCents: payment.amountCents, currency: payment.currency } },
        });
      const results = doubleConfirm
        ? await Promise.all([confirm(vu), confirm(`${vu}b`)])
        : [await confirm(vu)];
      let succeeded = false;
      for (const r of results) {
        if (!check(rec, checkNames.confirmStatus, r.status === 200)) continue;
        const p = r.body as Partial<PaymentView>;
        const good = check(
          rec,
          checkNames.confirmBody,
          p?.id === payment.id &&
            p.status === 'succeeded' &&
            p.providerPaymentId === providerPaymentId &&
            typeof p.confirmedAt === 'string',
        );
        succeeded ||= good;
      }
      if (results.length === 2 && results.every((r) => r.status === 200)) {
        const [a, b] = results.map((r) => r.body as PaymentView) as [PaymentView, PaymentView];
        check(
          rec,
          checkNames.doubleConfirmSame,
          a.id === b.id &&
            a.status === b.status &&
            a.providerPaymentId === b.providerPaymentId &&
            a.confirmedAt === b.confirmedAt,
        );
      }
      if (succeeded) {
        rec.metrics.addCount('payments_confirmed', {}, 1, ctx.scheduledAtMs / 1_000);
        if (intent === 'fresh' && state.bought.length < boughtCap) state.bought.push(pair);
      }
      if (succeeded && late && !signal.aborted) {
        // Later, as real providers do: the capture delivered again (same event id), and a failure
        // of the same payment out of order (a payment_failed after the payment_succeeded), in
        // either order. Both are answered 200 and change nothing (docs/payments.md, outcomes).
        const captured = results.find((r) => r.status === 200)!.body as PaymentView;
        await sleep(lateDelayMs, signal);
        const failure = providerEvent(payment, { type: 'payment_failed', providerPaymentId });
        const redeliver = () =>
          deliver(vu, event, {
            tag: 'late-provider-event',
            ids: { capturedCents: String(event.data.amountCents), late: 'true' },
          });
        const fail = () => deliver(vu, failure, { tag: 'late-provider-event', ids: { late: 'true' } });
        const [a, b] = failureFirst ? [fail, redeliver] : [redeliver, fail];
        const first = await a();
        const second = signal.aborted ? undefined : await b();
        const [again, failed] = failureFirst ? [second, first] : [first, second];
        const same = (r: RecordedResult | undefined) => {
          const p = r?.body as Partial<PaymentView> | undefined;
          return (
            r?.status === 200 &&
            p?.status === 'succeeded' &&
            p.providerPaymentId === providerPaymentId &&
            p.confirmedAt === captured.confirmedAt
          );
        };
        if (again) check(rec, checkNames.lateRedelivery, same(again));
        if (failed) check(rec, checkNames.lateFailure, same(failed));
      }
    }
    if (readDashboard && !signal.aborted) {
      const r = await recordedRequest(rec, {
        op: 'dashboard',
        process: vu,
        method: 'GET',
        path: `/students/${encodeURIComponent(pair.studentId)}/dashboard`,
        headers: { authorization },
        signal,
        ids: { studentId: pair.studentId, principal: pair.studentId },
        excerpt: dashboardExcerpt,
      });
      if (check(rec, checkNames.dashboardStatus, r.status === 200)) {
        const d = r.body as Partial<DashboardView>;
        check(
          rec,
          checkNames.dashboardBody,
          d?.studentId === pair.studentId &&
            Array.isArray(d.purchases) &&
            Array.isArray(d.allocations) &&
            Array.isArray(d.upcomingSessions),
        );
      }
    }
    if (readForeign && !signal.aborted && studentIds.length > 1) {
      // Another student's dashboard, asked with this student's token: must be refused.
      // Any student but this one, in O(1) (no search of the fixture list).
      const drawn = randomInt(random, studentIds.length);
      const other =
        studentIds[drawn] === pair.studentId
          ? studentIds[(drawn + 1) % studentIds.length]!
          : studentIds[drawn]!;
      const r = await recordedRequest(rec, {
        op: 'dashboard',
        tag: 'foreign-read',
        expectedStatuses: [403],
        process: vu,
        method: 'GET',
        path: `/students/${encodeURIComponent(other)}/dashboard`,
        headers: { authorization },
        signal,
        ids: { studentId: other, principal: pair.studentId },
        excerpt: dashboardExcerpt,
      });
      check(rec, checkNames.foreignRefused, r.status === 403);
    }
    await sleep(thinkMs, signal);
  };
  return { iterate, state };
}
