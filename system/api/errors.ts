import type { FastifyReply } from 'fastify';
import type { ApiErrorCode } from '../contracts/index.ts';

/** Every error answer has the same shape: `{ error: { code, message } }`. */
export function sendError(reply: FastifyReply, status: number, code: ApiErrorCode, message: string) {
  return reply.code(status).send({ error: { code, message } });
}
