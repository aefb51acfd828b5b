"""Apps whose resources the gateway's directory keeps: the request path over gateway/directory/.

    attributes.py  which User attributes the vendor stores, which the gateway holds, the merged view (pure)
    lookup.py      the filters the directory answers by index (userName eq, externalId eq)
    operations.py  DirectoryOperations: AppOperations' methods, over the vendor and the directory (writes)
    reads.py       its GET and search: the vendor's resource with the directory's entry laid over it
    versions.py    ETag preconditions (If-Match, If-None-Match)
    recovery.py    settling write intents whose outcome at the vendor was lost
    errors.py      the SCIM errors of this path (503 busy or down, 400 refusals; 412 from scim2-models)
    manual/        apps without a user API (`mode: manual`): the directory is the desired state and a
                   person works the queue of work items (its own package docstring)

The order of the two writes, and why. The vendor holds the account; the
directory holds what the vendor cannot, plus ids, correlation and versions.
Neither write can be made atomic with the other, so the directory write is
split in two around the vendor's:

    1. intent   (directory)  "this change is about to be made", conditional on the version read
    2. write    (vendor)
    3. confirm  (directory)  the change and what the vendor stored become the next version
       or abandon, when the vendor certainly did not act (it refused, throttled, or was never reached)

A crash or a lost answer between 1 and 3 leaves the intent, never a silent
disagreement: reads keep showing the last confirmed version, other writes to
that user wait (503 + Retry-After), and once the intent is older than any
request may run (`directory.settle_after`) the vendor's state decides whether
it is confirmed or abandoned (recovery.py), by the next write or by a sweep
that every process runs. The vendor write never happens without an intent
before it, and no change becomes a version without the vendor having it.
"""
