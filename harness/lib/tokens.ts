// The dev issuer: signs students' bearer tokens the way the API expects (system/api/auth.ts) with
// the dev key, or AUTH_JWT_SECRET / AUTH_ISSUER / AUTH_AUDIENCE when the system under test uses
// others. Tokens are made once per student and reused (like a browser session).
import { SignJWT } from 'jose';
import { devSecrets } from '../../system/contracts/index.ts';

export interface IssuerOptions {
  readonly secret?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** Lifetime of a token (default 6 h: longer than any run). */
  readonly ttlS?: number;
}

export function issuerFromEnv(env: NodeJS.ProcessEnv = process.env): IssuerOptions {
  return {
    secret: env.AUTH_JWT_SECRET || undefined,
    issuer: env.AUTH_ISSUER || undefined,
    audience: env.AUTH_AUDIENCE || undefined,
  };
}

/** A signed token for one student. */
export async function tokenFor(studentId: string, opts: IssuerOptions = {}): Promise<string> {
  const key = new TextEncoder().encode(opts.secret ?? devSecrets.jwtSecret);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(studentId)
    .setIssuer(opts.issuer ?? devSecrets.issuer)
    .setAudience(opts.audience ?? devSecrets.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.ttlS ?? 6 * 3600))
    .sign(key);
}

/** Tokens for many students, made up front so that a request never waits for a signature. */
export class TokenBook {
  readonly #tokens = new Map<string, string>();
  readonly #opts: IssuerOptions;
  constructor(opts: IssuerOptions = issuerFromEnv()) {
    this.#opts = opts;
  }
  async prepare(studentIds: Iterable<string>): Promise<this> {
    for (const id of studentIds)
      if (!this.#tokens.has(id)) this.#tokens.set(id, await tokenFor(id, this.#opts));
    return this;
  }
  /** `Authorization` header value for a prepared student. */
  bearer(studentId: string): string {
    const t = this.#tokens.get(studentId);
    if (!t) throw new Error(`no token prepared for student ${studentId}`);
    return `Bearer ${t}`;
  }
  async bearerFor(studentId: string): Promise<string> {
    await this.prepare([studentId]);
    return this.bearer(studentId);
  }
}
