-- wrk script: plain GET (the JWKS).
wrk.method = "GET"
