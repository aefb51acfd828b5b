"""Dry-run apps (`dry_run: true`): every write validated, translated and recorded, never sent.

    operations.py  DryRunOperations: reads from the vendor; writes through a second connector whose client
                   records instead of sending (gateway/outbound/dry_run.py); the SCIM answer composed
                   from the desired state
    service.py     the recorded calls, listed for the admin API and the CLI
    admin.py       GET /admin/v1/tenants/{tenant}/apps/{app}/dry-run (scope read)

Where the cut is, and why: at the vendor client, for every request but a GET.
Everything above it runs as for a live app (validation, create-once lookups,
the connector's own translation, its reads of the current state), so the
recorded calls are what a live app would send. The connector writing is a
second instance, used only for writes: whatever it caches about its own
(unsent) writes never reaches the app's reads. Its answers are synthetic, so
the gateway composes the SCIM answer from the desired state (created as sent
plus an id; the user as read with the change applied; 204). A dry-run app
keeps nothing in the directory but its recorded calls, sealed.
"""
