// verify.mjs checks a kakaoauth access token as a Node backend should, with jose.
//
//   KAKAOAUTH_ISSUER=https://auth.example.com KAKAOAUTH_AUDIENCE=https://auth.example.com \
//     node verify.mjs "$ACCESS_TOKEN"
//
// It prints the token's claims as JSON and exits 0, or prints why the token is refused and
// exits 1. KAKAOAUTH_JWKS_URL overrides the key set's address (default: the issuer's
// /.well-known/jwks.json).
import { createRemoteJWKSet, jwtVerify } from 'jose';

const issuer = process.env.KAKAOAUTH_ISSUER;
const audience = process.env.KAKAOAUTH_AUDIENCE;
const token = process.argv[2];
if (!issuer || !audience || !token) {
  console.error('usage: KAKAOAUTH_ISSUER=… KAKAOAUTH_AUDIENCE=… node verify.mjs TOKEN');
  process.exit(2);
}
const jwksURL = process.env.KAKAOAUTH_JWKS_URL ?? `${issuer.replace(/\/$/, '')}/.well-known/jwks.json`;

// Make the key set once per process: it caches the keys, and a token whose kid it does not
// know makes it fetch the set again (at most once every 30 s).
const jwks = createRemoteJWKSet(new URL(jwksURL));

try {
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: ['ES256', 'RS256'], // never HS256 or none
    typ: 'at+jwt',
    clockTolerance: 60, // seconds of leeway for exp, nbf and iat
    requiredClaims: ['exp', 'iat', 'sub'],
  });
  console.log(JSON.stringify(payload));
} catch (err) {
  console.error(`invalid token: ${err.code ?? err.name}: ${err.message}`);
  process.exit(1);
}
