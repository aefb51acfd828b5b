"""The caller's side: everything between an IdP's TCP connection and the orchestrator.

    serving.py    the HTTP server (stock uvicorn) and its settings
    connections.py  read timeouts for request heads and bodies, and the open-connection cap
    auth.py       per-tenant bearer tokens, stored as SHA-256, compared in constant time
    recording.py  one call's record: the audit line and the request metrics, whatever the outcome
    render.py     any exception raised while serving, rendered as a SCIM Error (RFC 7644 section 3.12)

Inbound limits and the failed-authentication throttle (429 with Retry-After) are in
gateway/throttle/ (admission.py, failed_auth.py), on the algorithm both sides share.
"""
