"""The vendor's side: every call a connector makes goes through here.

This package is the interface vendors/ depends on (and nothing else of the gateway):

    client.py    UpstreamClient: the one layer around aiohttp (breaker, outbound limits, signing,
                 timeouts, retries with backoff, Retry-After); UpstreamResponse
    budget.py    CallBudget: one request's deadline and the statuses of its vendor calls, passed down
    auth.py      VendorAuth (signs each request with the app's own credential), StaticTokenAuth
    oauth.py     OAuth2 client credentials with least privilege and single-flight refresh
    errors.py    the connector error vocabulary (unknown id, already exists, throttled, ...)
    statuses.py  vendor HTTP statuses mapped to that vocabulary
    retry.py     what is retried, backoff with full jitter, Retry-After
    breaker.py   the per-app circuit breaker
    guard.py     the bundle of policies one app's client applies
    pause.py     the vendor's 429 back-off window, remembered per app
    body.py      a vendor answer read up to a cap, counted after decompression
    vendor_text.py  vendor text scrubbed of the app's secrets and token-shaped strings before it is shown
"""
