// Students are authenticated with a bearer token: a JWT (RFC 7519) signed HS256 by the identity
// provider, verified with `fast-jwt` (the verifier under @fastify/jwt: node:crypto's HMAC, synchronous;
// jose 6, used before, verifies through WebCrypto, an asynchronous job: 75 µs of CPU per token
// against 8, docs/payments.md). Claims: `sub` = the student's id (a UUID), `iss`, `aud`, `exp`
// (required), `iat`. The harness's dev issuer (harness/lib/tokens.ts) signs them with `jose`, so
// signing and verification are two independent implementations. A verified token is remembered
// until it expires (bounded map), so a student's next requests cost a hash and a map lookup, not a
// JWT verification: a token is only ever trusted after one full verification. The map is keyed by
// the token's SHA-256 (32 bytes as a one-byte string, Node's 'binary'; another token with the same
// key would be a SHA-256 collision), not by the token itself: full (50,000 entries, which a bench
// fills) it held 9.2 MiB of the API's heap instead of 22.0 (docs/benchmarks.md, nineteenth round).
import { hash } from 'node:crypto';
import { createVerifier, TokenError } from 'fast-jwt';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Secrets } from '../lib/secrets.ts';
import { sendError } from './errors.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated student (the token's `sub`), set by the auth hook. */
    principal?: string;
  }
}

export interface Authenticator {
  /** onRequest hook: 401 without a valid token; sets `req.principal`. */
  readonly hook: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** Tokens remembered as verified (tests). */
  readonly remembered: number;
}

export function authenticator(secrets: Secrets, opts: { cacheSize?: number; clockToleranceS?: number } = {}) {
  const verifyJwt = createVerifier({
    key: Buffer.from(secrets.jwtSecret, 'utf8'),
    algorithms: ['HS256'],
    allowedIss: secrets.issuer,
    allowedAud: secrets.audience,
    requiredClaims: ['sub', 'exp'],
    clockTolerance: (opts.clockToleranceS ?? 30) * 1000,
    // Remembering is ours (below, keyed by digest); fast-jwt's own cache would hold a second copy.
    cache: false,
  });
  const cacheSize = opts.cacheSize ?? 50_000;
  const verified = new Map<string, { sub: string; expMs: number }>();
  const verify = (token: string): string => {
    const digest = hash('sha256', token, 'binary');
    const hit = verified.get(digest);
    if (hit && hit.expMs > Date.now()) return hit.sub;
    if (hit) verified.delete(digest);
    // requiredClaims and fast-jwt's date checks make `exp` a number; `sub` is only required.
    const { sub, exp } = verifyJwt(token) as { sub: unknown; exp: number };
    if (typeof sub !== 'string' || !uuidPattern.test(sub))
      throw new TokenError(TokenError.codes.invalidClaimValue, 'sub is not a student id');
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
    verified.set(digest, { sub, expMs: exp * 1000 });
    return sub;
  };
  const hook = async (req: FastifyRequest, reply: FastifyReply) => {
    const h = req.headers.authorization;
    if (!h) {
      reply.header('www-authenticate', 'Bearer');
      return sendError(reply, 401, 'unauthenticated', 'send Authorization: Bearer <token>');
    }
    const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(h);
    if (!m || h.length > 4096) {
      reply.header('www-authenticate', 'Bearer error="invalid_request"');
      return sendError(reply, 401, 'unauthenticated', 'Authorization must be "Bearer <JWT>"');
    }
    try {
      req.principal = verify(m[1]!);
    } catch (err) {
      const expired = err instanceof TokenError && err.code === TokenError.codes.expired;
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      return sendError(
        reply,
        401,
        'invalid_token',
        expired ? 'the token has expired' : 'the token is not valid for this API',
      );
    }
    return undefined;
  };
  return {
    hook,
    get remembered() {
      return verified.size;
    },
  } satisfies Authenticator;
}
