"""Apps without a user API (`mode: manual`): the same SCIM face, and a person does the vendor's writes.

    operations.py  ManualOperations: the SCIM operations over the directory; each write and its work
                   item in one transaction
    fulfilment.py  the User the IdP reads, with its Fulfilment extension; what a write asks (pure)
    events.py      a work item's transitions: audited, and the webhook sender woken
    service.py     list, claim, complete, reject: the one place items move (admin API and CLI)
    api.py         the admin API's /work endpoints (mounted in gateway/admin/routes.py, scope `work`)
    cli.py         `scim-gateway work list|claim|complete|reject`
    webhook.py     announcing new items to a ticketing system: signed, retried, resumed after a restart
    tasks.py       the lifespan's background tasks: the backlog read for metrics, the webhook sender

Storage: gateway/directory/work.py (the work_items table, revision 0003) beside resources.py.
"""
