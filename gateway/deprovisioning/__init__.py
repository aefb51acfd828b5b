"""The deprovisioning guard: bursts of deactivations and deletes held for an operator's decision.

    gate.py     in the request path: which call deprovisions, the decision, the SCIM errors (503 held,
                409 rejected), the metric and the audit field
    service.py  status, approve, reject, reset: for the admin API, the CLI and the status page
    admin.py    the admin API's endpoints (plain starlette functions)

A misconfigured IdP scope can deactivate or delete half a company in minutes.
Per app, `guard: {max_deprovisions: N, window: 10m}`: each deactivation (a PUT
or PATCH that sets `active` false on an active user) and each user delete is
counted in a sliding window; past N, every further one is held (not sent to
the vendor, answered 503 with Retry-After) until an operator approves the
held batch (the IdP's retries then go through) or rejects it (they are refused
with 409 until an operator resets the guard). Creates and other updates are
never held. The window and the batch live in the directory's database
(gateway/directory/deprovisions.py), not in Redis: a decision is one
transaction holding the app's row lock, so the count is exact across replicas,
and the batch outlives restarts (the throttle's Redis may be bundled without
persistence, and falls back to per-process limits when it fails: a per-process
guard would let N per replica through).
"""
