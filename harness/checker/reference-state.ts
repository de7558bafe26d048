// A correct state written straight into the database, step by step as docs/semantics.md says the
// reference system writes it: the checker's own model of "what the system leaves behind". Tests
// build a correct world with it and then break exactly one thing; property tests can build the
// expected state of a history with it.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type pg from 'pg';
import type { DomainEvent } from '../../system/contracts/events.ts';
import { allocationIdFor, eventIdFor, purchaseIdFor } from '../../system/contracts/ids.ts';
import { dueSessionCount, sessionDate, sessionTime, startDateFor } from '../../system/contracts/schedule.ts';
import type { ConsumerGroup, EventType } from '../../system/contracts/topics.ts';
import { topics } from '../../system/contracts/topics.ts';
import { systemTopicSet, type TopicSet } from './topic-set.ts';

/** What one paid (student, course) led to. */
export interface PaidChain {
  readonly paymentId: string;
  readonly purchaseId: string;
  readonly allocationId: string;
  readonly eventIds: {
    readonly confirmed: string;
    readonly created: string;
    readonly allocated: string | null;
  };
}

export class ReferenceWorld {
  readonly db: pg.Pool;
  /** The app clock this world was built at. */
  readonly now: Date;
  /** Topic names written into outbox rows. */
  readonly topicSet: TopicSet;
  #tick = 0;

  private constructor(db: pg.Pool, now: Date, topicSet: TopicSet) {
    this.db = db;
    this.now = now;
    this.topicSet = topicSet;
  }

  /** A world at the database's app clock. */
  static async open(db: pg.Pool, topicSet: TopicSet = systemTopicSet): Promise<ReferenceWorld> {
    const r = await db.query<{ ms: number }>(
      `SELECT (extract(epoch FROM clock_timestamp()) * 1000 + offset_ms)::float8 AS ms FROM app_clock`,
    );
    return new ReferenceWorld(db, new Date(Math.floor(r.rows[0]!.ms)), topicSet);
  }

  /** Distinct, millisecond-precise entity times, so that envelopes can carry them exactly. */
  at(): Date {
    return new Date(this.now.getTime() + this.#tick++);
  }

  async student(): Promise<string> {
    const id = randomUUID();
    await this.db.query('INSERT INTO students (id, name) VALUES ($1, $2)', [id, `student ${id.slice(0, 8)}`]);
    return id;
  }

  async course(o: { sessionCount?: number; tier?: number } = {}): Promise<string> {
    const id = randomUUID();
    await this.db.query(
      'INSERT INTO courses (id, title, session_count, purchase_tier) VALUES ($1, $2, $3, $4)',
      [id, `course ${id.slice(0, 8)}`, o.sessionCount ?? 30, o.tier ?? 1],
    );
    return id;
  }

  async trainer(o: { capacity?: number } = {}): Promise<string> {
    const id = randomUUID();
    await this.db.query('INSERT INTO trainers (id, name, capacity) VALUES ($1, $2, $3)', [
      id,
      `trainer ${id.slice(0, 8)}`,
      o.capacity ?? 10,
    ]);
    return id;
  }

  /** POST /payments: a pending payment. */
  async createPayment(o: {
    studentId: string;
    courseId: string;
    amountCents?: number;
    idempotencyKey?: string;
  }): Promise<string> {
    const id = randomUUID();
    await this.db.query(
      `INSERT INTO payments (id, student_id, course_id, amount_cents, idempotency_key, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, o.studentId, o.courseId, o.amountCents ?? 4900, o.idempotencyKey ?? null, this.at()],
    );
    return id;
  }

  /** POST /payments/:id/confirm: succeeded + the PURCHASE_CONFIRMED outbox row, in one transaction. */
  async confirm(paymentId: string, providerPaymentId = `pp-${randomUUID()}`): Promise<string> {
    const at = this.at();
    const p = await this.db.query<{ student_id: string; course_id: string; amount_cents: string }>(
      `UPDATE payments SET status = 'succeeded', provider_payment_id = $2, confirmed_at = $3
        WHERE id = $1 RETURNING student_id, course_id, amount_cents`,
      [paymentId, providerPaymentId, at],
    );
    const row = p.rows[0]!;
    const eventId = eventIdFor('PURCHASE_CONFIRMED', paymentId);
    await this.outbox({
      eventId,
      correlationId: paymentId,
      causationId: null,
      eventType: 'PURCHASE_CONFIRMED',
      version: 1,
      timestamp: at.toISOString(),
      payload: {
        paymentId,
        studentId: row.student_id,
        courseId: row.course_id,
        amountCents: Number(row.amount_cents),
        metadata: {},
      },
    });
    return eventId;
  }

  /** The inbox row a consumer group writes when it handles an event. */
  async processed(group: ConsumerGroup, eventId: string, eventType: EventType): Promise<void> {
    await this.db.query(
      'INSERT INTO processed_events (consumer, event_id, event_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [group, eventId, eventType],
    );
  }

  /** purchase-worker on PURCHASE_CONFIRMED: the purchase (or the pair's existing one) and PURCHASE_CREATED. */
  async purchase(paymentId: string): Promise<{ purchaseId: string; eventId: string }> {
    await this.processed(
      'purchase-worker',
      eventIdFor('PURCHASE_CONFIRMED', paymentId),
      'PURCHASE_CONFIRMED',
    );
    const p = (
      await this.db.query<{ student_id: string; course_id: string; purchase_tier: number }>(
        `SELECT p.student_id, p.course_id, c.purchase_tier FROM payments p JOIN courses c ON c.id = p.course_id
          WHERE p.id = $1`,
        [paymentId],
      )
    ).rows[0]!;
    await this.db.query(
      `INSERT INTO student_course_purchases (id, payment_id, student_id, course_id, purchase_tier, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [purchaseIdFor(paymentId), paymentId, p.student_id, p.course_id, p.purchase_tier, this.at()],
    );
    const existing = (
      await this.db.query<{ id: string; payment_id: string; created_at: Date }>(
        `SELECT id, payment_id, created_at FROM student_course_purchases
          WHERE student_id = $1 AND course_id = $2 AND is_active`,
        [p.student_id, p.course_id],
      )
    ).rows[0]!;
    const eventId = eventIdFor('PURCHASE_CREATED', existing.id);
    await this.outbox({
      eventId,
      correlationId: existing.payment_id,
      causationId: eventIdFor('PURCHASE_CONFIRMED', existing.payment_id),
      eventType: 'PURCHASE_CREATED',
      version: 1,
      timestamp: existing.created_at.toISOString(),
      payload: {
        purchaseId: existing.id,
        studentId: p.student_id,
        courseId: p.course_id,
        purchaseTier: p.purchase_tier,
        metadata: {},
      },
    });
    return { purchaseId: existing.id, eventId };
  }

  /** allocation-worker on PURCHASE_CREATED: a live allocation (+ TRAINER_ALLOCATED) or a waitlist entry. */
  async allocate(purchaseId: string): Promise<{ allocationId: string; eventId: string | null }> {
    await this.processed('allocation-worker', eventIdFor('PURCHASE_CREATED', purchaseId), 'PURCHASE_CREATED');
    const c = (
      await this.db.query<{
        payment_id: string;
        student_id: string;
        course_id: string;
        session_count: number;
      }>(
        `SELECT p.payment_id, p.student_id, p.course_id, c.session_count
           FROM student_course_purchases p JOIN courses c ON c.id = p.course_id WHERE p.id = $1`,
        [purchaseId],
      )
    ).rows[0]!;
    // The pair already has an outcome (a second payment for it): done, nothing new.
    const outcome = (
      await this.db.query<{ id: string; status: string }>(
        `SELECT id, status FROM trainer_allocations
          WHERE student_id = $1 AND course_id = $2 AND status IN ('approved', 'active', 'waitlisted')`,
        [c.student_id, c.course_id],
      )
    ).rows[0];
    if (outcome)
      return {
        allocationId: outcome.id,
        eventId: outcome.status === 'waitlisted' ? null : eventIdFor('TRAINER_ALLOCATED', outcome.id),
      };
    const allocationId = allocationIdFor(purchaseId);
    const trainer = (
      await this.db.query<{ id: string }>(
        'SELECT id FROM trainers WHERE active_allocations < capacity ORDER BY active_allocations, id LIMIT 1 FOR UPDATE',
      )
    ).rows[0];
    const at = this.at();
    const startDate = startDateFor(this.now);
    if (!trainer) {
      await this.db.query(
        `INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, waitlist_reason,
                                          session_count, start_date, created_at)
         VALUES ($1, $2, $3, $4, NULL, 'waitlisted', 'no_trainer_capacity', $5, $6, $7)`,
        [allocationId, purchaseId, c.student_id, c.course_id, c.session_count, startDate, at],
      );
      return { allocationId, eventId: null };
    }
    await this.db.query(
      `INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, session_count,
                                        start_date, created_at)
       VALUES ($1, $2, $3, $4, $5, 'approved', $6, $7, $8)`,
      [allocationId, purchaseId, c.student_id, c.course_id, trainer.id, c.session_count, startDate, at],
    );
    await this.db.query('UPDATE trainers SET active_allocations = active_allocations + 1 WHERE id = $1', [
      trainer.id,
    ]);
    const eventId = eventIdFor('TRAINER_ALLOCATED', allocationId);
    await this.outbox({
      eventId,
      correlationId: c.payment_id,
      causationId: eventIdFor('PURCHASE_CREATED', purchaseId),
      eventType: 'TRAINER_ALLOCATED',
      version: 1,
      timestamp: at.toISOString(),
      payload: {
        allocationId,
        trainerId: trainer.id,
        studentId: c.student_id,
        courseId: c.course_id,
        sessionCount: c.session_count,
        startDate,
      },
    });
    return { allocationId, eventId };
  }

  /** session-worker on TRAINER_ALLOCATED (and the top-up job): sessions 1..due at `now`. */
  async sessions(allocationId: string, now: Date = this.now): Promise<number> {
    const a = (
      await this.db.query<{
        trainer_id: string;
        student_id: string;
        start_date: string;
        session_count: number;
      }>(
        `SELECT trainer_id, student_id, to_char(start_date, 'YYYY-MM-DD') AS start_date, session_count
           FROM trainer_allocations WHERE id = $1`,
        [allocationId],
      )
    ).rows[0]!;
    const due = dueSessionCount(a.start_date, a.session_count, now);
    for (let seq = 1; seq <= due; seq++)
      await this.db.query(
        `INSERT INTO tutoring_sessions (allocation_id, trainer_id, student_id, seq, scheduled_date, scheduled_time)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [allocationId, a.trainer_id, a.student_id, seq, sessionDate(a.start_date, seq), sessionTime],
      );
    // As the session worker leaves it: the next session to create, none once all exist.
    await this.db.query('UPDATE trainer_allocations SET next_session_on = $2 WHERE id = $1', [
      allocationId,
      due >= a.session_count ? null : sessionDate(a.start_date, due + 1),
    ]);
    return due;
  }

  /**
   * A whole paid chain, every worker having done its part: payment, purchase, allocation, session
   * window, and the inbox rows of all four groups.
   */
  async pay(studentId: string, courseId: string, o: { idempotencyKey?: string } = {}): Promise<PaidChain> {
    const paymentId = await this.createPayment({ studentId, courseId, ...o });
    const confirmed = await this.confirm(paymentId);
    const { purchaseId, eventId: created } = await this.purchase(paymentId);
    await this.processed('cache-worker', created, 'PURCHASE_CREATED');
    const allocated = await this.allocate(purchaseId);
    if (allocated.eventId) {
      await this.processed('session-worker', allocated.eventId, 'TRAINER_ALLOCATED');
      await this.processed('cache-worker', allocated.eventId, 'TRAINER_ALLOCATED');
      await this.sessions(allocated.allocationId);
    }
    return {
      paymentId,
      purchaseId,
      allocationId: allocated.allocationId,
      eventIds: { confirmed, created, allocated: allocated.eventId },
    };
  }

  /** The relay: every unpublished outbox row to its topic (key = studentId), then marked published. */
  async publish(producer: Producer): Promise<number> {
    const rows = await this.db.query<{ id: string; topic: string; message_key: string; envelope: unknown }>(
      'SELECT id, topic, message_key, envelope FROM outbox WHERE published_at IS NULL ORDER BY id',
    );
    for (const r of rows.rows) {
      await producer.send({
        topic: r.topic,
        acks: -1,
        messages: [{ key: r.message_key, value: JSON.stringify(r.envelope) }],
      });
      await this.db.query(
        'UPDATE outbox SET published_at = now(), publish_attempts = publish_attempts + 1 WHERE id = $1',
        [r.id],
      );
    }
    return rows.rows.length;
  }

  async outbox(event: DomainEvent): Promise<void> {
    await this.db.query(
      `INSERT INTO outbox (event_id, event_type, topic, message_key, envelope)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING`,
      [
        event.eventId,
        event.eventType,
        this.topicSet.events[event.eventType] ?? topics[event.eventType],
        event.payload.studentId,
        event,
      ],
    );
  }
}
