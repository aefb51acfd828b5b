"""The admin API (`/admin/v1/tenants/{tenant}/...`) and the operator CLI built on the same services.

    scopes.py    operator tokens: who is calling, what they may do (read, offboard, work, approve)
    errors.py    errors as JSON in the SCIM Error shape (RFC 7644 section 3.12), rendered in one place
    context.py   what a handler is given (AdminCall) and how a route declares itself (AdminRoute)
    routes.py    the route table, and the one wrapper every call goes through: authenticate (failed
                 attempts throttled), authorise, serve, audit
    accounts.py  one app's User resources as normalised accounts; finding a person in one app
    people.py    a person across every app of a tenant, asked concurrently
    offboard.py  deactivating or deleting a person's accounts everywhere, idempotently
    roster.py    the IdP's roster an access review is checked against
    review.py    the access review: every account of every app, streamed page by page
    cli.py       `scim-gateway people find|offboard` and `scim-gateway review`, over
    remote.py    a running gateway's admin API, or
    local.py     the same services in-process on a config; tables.py prints tables and progress

Services (people, offboard, review) take a TenantRuntime and never a request, so the CLI runs them
in-process on a config exactly as the HTTP handlers do.
"""
