// system/api/auth.ts's memory of verified tokens (keyed by the token's SHA-256): a remembered token
// still answers with its own student, a token that differs from a remembered one in any character
// is verified afresh (and refused when its signature does not hold), an expired entry is dropped
// and verified again, and the memory stays within its bound. And the checks of a token at first
// sight (fast-jwt): only HS256 with the API's key, its issuer and audience, `exp` required and not
// past (with the clock tolerance), `sub` a student id; tokens are signed here with jose (an
// independent implementation). A bare Fastify app on inject: no sockets, no services.
import Fastify, { type FastifyInstance } from 'fastify';
import { decodeJwt, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { tokenFor } from '../../harness/lib/tokens.ts';
import { sleep } from '../../harness/lib/wait-for.ts';
import { authenticator } from '../../system/api/auth.ts';
import { loadSecrets } from '../../system/lib/secrets.ts';

const secrets = loadSecrets({});
const student = '11111111-1111-4111-8111-111111111111';
const other = '22222222-2222-4222-8222-222222222222';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function appWith(auth: ReturnType<typeof authenticator>): FastifyInstance {
  app = Fastify();
  app.addHook('onRequest', auth.hook);
  app.get('/who', async (req) => ({ principal: req.principal }));
  return app;
}

async function ask(a: FastifyInstance, token: string) {
  const res = await a.inject({ method: 'GET', url: '/who', headers: { authorization: `Bearer ${token}` } });
  return {
    status: res.statusCode,
    body: res.json() as { principal?: string; error?: { code: string; message: string } },
  };
}

describe('the memory of verified tokens', () => {
  it('answers a remembered token with its own student, each token with its own', async () => {
    const auth = authenticator(secrets);
    const a = appWith(auth);
    const t1 = await tokenFor(student);
    const t2 = await tokenFor(other);
    for (let i = 0; i < 3; i++) {
      expect(await ask(a, t1)).toEqual({ status: 200, body: { principal: student } });
      expect(await ask(a, t2)).toEqual({ status: 200, body: { principal: other } });
    }
    expect(auth.remembered).toBe(2);
  });

  it('verifies afresh a token one character away from a remembered one, and refuses it', async () => {
    const auth = authenticator(secrets);
    const a = appWith(auth);
    const good = await tokenFor(student);
    expect((await ask(a, good)).status).toBe(200);
    // Change one character of the payload, then of the signature: neither is the remembered token.
    const [h, p, s] = good.split('.') as [string, string, string];
    const flip = (x: string, i: number) => x.slice(0, i) + (x[i] === 'A' ? 'B' : 'A') + x.slice(i + 1);
    for (const forged of [`${h}.${flip(p, 5)}.${s}`, `${h}.${p}.${flip(s, 3)}`]) {
      const r = await ask(a, forged);
      expect(r.status).toBe(401);
      expect(r.body.error?.code).toBe('invalid_token');
    }
    expect(auth.remembered).toBe(1);
  });

  it('drops an entry once its token expires and verifies it again (refused)', async () => {
    const auth = authenticator(secrets, { clockToleranceS: 0 });
    const a = appWith(auth);
    // Two seconds: valid for at least one whole second, whenever in a second it was signed.
    const shortLived = await tokenFor(student, { ttlS: 2 });
    const expS = decodeJwt(shortLived).exp!;
    expect((await ask(a, shortLived)).status).toBe(200);
    expect(auth.remembered).toBe(1);
    await sleep(Math.max(0, expS * 1000 - Date.now()) + 50);
    const r = await ask(a, shortLived);
    expect(r).toEqual({
      status: 401,
      body: { error: { code: 'invalid_token', message: 'the token has expired' } },
    });
    expect(auth.remembered).toBe(0);
  });

  it('remembers at most cacheSize tokens, and still verifies the ones it forgot', async () => {
    const auth = authenticator(secrets, { cacheSize: 3 });
    const a = appWith(auth);
    const ids = Array.from({ length: 5 }, (_, i) => `${String(i).repeat(8)}-0000-4000-8000-000000000000`);
    const tokens = await Promise.all(ids.map((id) => tokenFor(id)));
    for (const [i, t] of tokens.entries()) {
      expect((await ask(a, t)).body.principal).toBe(ids[i]);
      expect(auth.remembered).toBe(Math.min(i + 1, 3));
    }
    expect((await ask(a, tokens[0]!)).body.principal).toBe(ids[0]);
    expect(auth.remembered).toBe(3);
  });
});

describe('the checks of a token at first sight', () => {
  const key = new TextEncoder().encode(secrets.jwtSecret);
  const now = () => Math.floor(Date.now() / 1000);
  // A token as the dev issuer signs it, with one thing changed.
  const signed = (
    change: {
      alg?: string;
      sub?: string;
      iss?: string;
      aud?: string;
      exp?: number | null;
      nbf?: number;
      key?: Uint8Array;
    } = {},
  ) => {
    const jwt = new SignJWT(change.nbf === undefined ? {} : { nbf: change.nbf })
      .setProtectedHeader({ alg: change.alg ?? 'HS256', typ: 'JWT' })
      .setSubject(change.sub ?? student)
      .setIssuer(change.iss ?? secrets.issuer)
      .setAudience(change.aud ?? secrets.audience)
      .setIssuedAt();
    if (change.exp !== null) jwt.setExpirationTime(change.exp ?? now() + 600);
    return jwt.sign(change.key ?? key);
  };

  it("accepts the dev issuer's token, and one expired within the clock tolerance", async () => {
    const a = appWith(authenticator(secrets, { clockToleranceS: 30 }));
    expect(await ask(a, await signed())).toEqual({ status: 200, body: { principal: student } });
    expect((await ask(a, await signed({ sub: other, exp: now() - 10 }))).body.principal).toBe(other);
  });

  const refused: [string, () => Promise<string>, string][] = [
    ['another issuer', () => signed({ iss: 'someone-else' }), 'the token is not valid for this API'],
    ['another audience', () => signed({ aud: 'another-api' }), 'the token is not valid for this API'],
    ['no exp', () => signed({ exp: null }), 'the token is not valid for this API'],
    ['exp past the tolerance', () => signed({ exp: now() - 120 }), 'the token has expired'],
    [
      'not valid before a minute from now',
      () => signed({ nbf: now() + 60 }),
      'the token is not valid for this API',
    ],
    ['a sub that is not a student id', () => signed({ sub: 'admin' }), 'the token is not valid for this API'],
    ['HS512 with the right key', () => signed({ alg: 'HS512' }), 'the token is not valid for this API'],
    [
      'another key',
      () => signed({ key: new TextEncoder().encode('k'.repeat(48)) }),
      'the token is not valid for this API',
    ],
  ];
  for (const [name, make, message] of refused) {
    it(`refuses a token with ${name}, and does not remember it`, async () => {
      const auth = authenticator(secrets, { clockToleranceS: 30 });
      const r = await ask(appWith(auth), await make());
      expect(r).toEqual({ status: 401, body: { error: { code: 'invalid_token', message } } });
      expect(auth.remembered).toBe(0);
    });
  }
});
