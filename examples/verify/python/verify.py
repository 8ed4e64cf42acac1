"""verify.py checks a kakaoauth access token as a Python backend should, with PyJWT.

    KAKAOAUTH_ISSUER=https://auth.example.com KAKAOAUTH_AUDIENCE=https://auth.example.com \
        python3 verify.py "$ACCESS_TOKEN"

It prints the token's claims as JSON and exits 0, or prints why the token is refused and
exits 1. KAKAOAUTH_JWKS_URL overrides the key set's address (default: the issuer's
/.well-known/jwks.json). Needs PyJWT with cryptography (Debian: python3-jwt python3-cryptography).
"""

import json
import os
import sys

import jwt

ALGORITHMS = ["ES256", "RS256"]  # never HS256 or none


def key_set(issuer, jwks_url=None):
    """Returns the key set to reuse for every request: it caches the keys (5 minutes), and a
    token whose kid it does not know makes it fetch the set again."""
    return jwt.PyJWKClient(jwks_url or issuer.rstrip("/") + "/.well-known/jwks.json", cache_keys=True)


def verify(keys, token, issuer, audience):
    """Returns the claims of a valid kakaoauth access token; raises jwt.PyJWTError otherwise."""
    typ = jwt.get_unverified_header(token).get("typ", "")
    if typ.lower().removeprefix("application/") != "at+jwt":
        raise jwt.InvalidTokenError(f'typ is "{typ}", not "at+jwt"')
    return jwt.decode(
        token,
        keys.get_signing_key_from_jwt(token).key,
        algorithms=ALGORITHMS,
        audience=audience,
        issuer=issuer,
        leeway=60,  # seconds of leeway for exp, nbf and iat
        options={"require": ["exp", "iat", "sub"]},
    )


def main():
    issuer = os.environ.get("KAKAOAUTH_ISSUER")
    audience = os.environ.get("KAKAOAUTH_AUDIENCE")
    if not issuer or not audience or len(sys.argv) != 2:
        print("usage: KAKAOAUTH_ISSUER=… KAKAOAUTH_AUDIENCE=… python3 verify.py TOKEN", file=sys.stderr)
        return 2
    keys = key_set(issuer, os.environ.get("KAKAOAUTH_JWKS_URL"))
    try:
        claims = verify(keys, sys.argv[1], issuer, audience)
    except jwt.PyJWTError as err:
        print(f"invalid token: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
