"""Rate limits, inbound (per tenant, per app) and outbound (per app's vendor), on one algorithm.

Every limit is a GCRA (generic cell rate algorithm: a token bucket kept as
one timestamp per key). A caller *reserves* a slot: the store answers how
long to wait (at most `max_wait`), or refuses with the time until a slot
frees, which becomes the Retry-After. Backends:

    gcra.py         the pure algorithm and the in-process store (the default)
    redis_store.py  the same algorithm as one atomic Lua script, shared by
                    replicas, falling back to each replica's share when Redis fails
    admission.py    inbound admission (429 + Retry-After) and the outbound limiter
    build.py        the store, each app's admission and upstream guard, from the config
"""
