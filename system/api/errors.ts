import type { FastifyReply } from 'fastify';
import type { ApiErrorCode } from '../contracts/index.ts';

/**
 * Every error answer has the same shape: `{ error: { code, message } }`. A 503 (a dependency is
 * away) says when to retry, like the rate limit's 429 does.
 */
export function sendError(reply: FastifyReply, status: number, code: ApiErrorCode, message: string) {
  if (status === 503) reply.header('retry-after', '1');
  return reply.code(status).send({ error: { code, message } });
}
