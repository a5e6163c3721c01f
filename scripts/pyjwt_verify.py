"""The PyJWT snippet of docs/src/verifying-tokens.md, against a running Heimdall.

Usage: python3 pyjwt_verify.py <jwks_url> <issuer> <access_token>
Exits non-zero when verification fails.
"""
import sys

import jwt
from jwt import PyJWKClient

JWKS_URL, ISSUER, TOKEN = sys.argv[1], sys.argv[2], sys.argv[3]
jwks_client = PyJWKClient(JWKS_URL, cache_keys=True)


def verify_token(bearer: str) -> dict:
    signing_key = jwks_client.get_signing_key_from_jwt(bearer)
    return jwt.decode(
        bearer,
        signing_key.key,
        algorithms=['RS256'],
        options={'verify_aud': False},
        issuer=ISSUER,
    )


claims = verify_token(TOKEN)
assert claims["type"] == "end_user", claims
assert claims["iss"] == ISSUER, claims
try:
    jwt.decode(TOKEN, jwks_client.get_signing_key_from_jwt(TOKEN).key, algorithms=['RS256'],
               options={'verify_aud': False}, issuer='heimdall')
except jwt.InvalidIssuerError:
    pass
else:
    raise SystemExit("a wrong issuer was accepted")
print("PyJWT verified the token:", {k: claims[k] for k in ("sub", "aid", "role", "type", "iss")})
