"""Reconciliation: every account at each app's vendor, compared with the gateway's directory.

compare.py decides what one account is (orphan, drift, reactivated) next to its directory entry;
run.py walks one app (vendor pages, then directory pages; missing entries) recording findings;
reconciler.py runs it under a database lease, on demand or on the app's `reconcile.every` schedule;
service.py is what the admin API calls; metrics.py exports the last run's counts; cli.py is
`scim-gateway reconcile`. Reconciliation never writes to a vendor.
"""
