"""Resilience towards vendors: retries with backoff, deadlines, circuit breaking, safe creates.

    clock.py     injectable time, sleep and jitter
    deadline.py  the per-request deadline that bounds every wait and retry
    retry.py     which failures are retried, backoff with full jitter, Retry-After
    breaker.py   the per-app circuit breaker (closed -> open -> half_open -> closed)
    pause.py     the vendor's 429 back-off window, remembered per app
    guard.py     the bundle one app's UpstreamClient uses (limits, breaker, retry policy)
    create.py    POST create that never creates twice after an ambiguous failure
"""
