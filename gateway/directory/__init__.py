"""The gateway's directory: what it knows about every app's resources, kept in a database it owns.

For each tenant's app the directory records each resource the gateway has
provisioned or found at the vendor: SCIM id <-> vendor id, userName and
externalId, the attributes the vendor cannot store (held here), a version,
created/updated times, the origin (`gateway` or `vendor`), the active flag
and at most one pending write intent. Apps choose `directory: off | link | full`
(gateway/config/); this package is the storage, the request path decides
what to keep.

Storage: SQLite (default; one replica; a file path) or PostgreSQL (any number
of replicas; the URL is a secret reference), through SQLAlchemy 2 Core on
aiosqlite / asyncpg. One code path for both: portable types, explicit
transactions, no engine-specific SQL outside `engine.py` (transaction set-up)
and `migrate.py` (PostgreSQL's advisory lock around migrations).

Use (built in the app's lifespan, closed at shutdown):

    directory = await open_directory(config.directory)      # store.py: migrates or checks the schema
    orca = directory.resources("acme", "orca")              # resources.py: one app's repository
    entry = await orca.by_user_name("Alice@Example.com")    # caseless; by_external_id is exact
    pending = await orca.record_intent("User", IntentOp.UPDATE, desired, id=entry.id,
                                       expected_version=entry.version)
    ... call the vendor ...
    await orca.confirm("User", entry.id, pending.pending)   # or abandon(...) if the vendor refused

Contracts:
- Versions: every confirmed change adds 1 (`Entry.etag` is `W/"<version>"`);
  writes are conditional on the expected version, so of concurrent writers
  exactly one wins and the others get StaleVersion (or WriteInProgress while an
  intent is pending); nothing is ever silently overwritten.
- Intents: written before the vendor call, resolved after it; a crash leaves
  the intent in place and `pending_intents(older_than)` lists it for recovery.
  A pending create (version 0, `Entry.visible` false) already reserves its
  userName; an update intent does not reserve a new userName.
- Personal data (userName, externalId, held attributes, intents' desired
  states) is sealed with AES-256-GCM (crypto.py), bound to its row and column.
  `directory.encryption.keys[0]` seals; every listed key opens; each write
  re-seals the whole row with the first key (`resources.key_id` says which key
  sealed a row, so an old key can be retired once no row uses it).
- Lookups by userName (caseless) and externalId (exact) go through blind
  indexes: HMAC-SHA256 under `directory.encryption.index_key`, a separate key
  that does not rotate (rotating it would mean re-indexing every row at once).
- Deleting a resource deletes its row: no held value survives it.
- Errors: errors.py draws the tree; none carries personal data, a key or the URL.

Two more repositories share the database: deprovisions.py (the deprovisioning guard's sliding
window and held batch per app, identifiers only, each decision one locking transaction) and
dry_runs.py (dry-run apps' recorded vendor calls, sealed like the personal columns).

Schema changes: Alembic revisions in `migrations/versions` (checked in; the tests
run them on both engines and compare the result with schema.py). Applied by
`scim-gateway db upgrade --config FILE`, or at start-up when
`directory.migrate_on_start` (the default).
"""
