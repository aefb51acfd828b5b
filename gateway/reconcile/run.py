"""One reconciliation of one app: walk the vendor page by page, then the directory, recording findings.

1. Every account at the vendor, `page_size` at a time through the app's operations (so through its
   connector and UpstreamClient: outbound limits, retries, breaker, vendor pauses all apply), each page
   compared with the directory entries linked to its vendor ids (one query per page), its findings
   recorded and the entries it met marked as seen, in the database.
2. Every directory entry of the app, by keyset pages: a visible, linked entry that existed when the run
   started and was not seen at the vendor is missing (unless its deletion is in progress).
Memory holds one vendor page and one directory page at a time, whatever the app's size. Nothing is
ever written to the vendor. Raises what the vendor calls raise (ConnectorError) and DirectoryError.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from gateway.directory.findings import FindingState, Observation, Reconciliations
from gateway.directory.records import Entry, IntentOp
from gateway.directory.resources import Resources
from gateway.operations import AppOperations
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import VendorBadResponse
from gateway.reconcile.compare import observe
from gateway.scim.query import ListQuery
from vendors.base import Kind, Op

PAGE_SIZE = 100


@dataclass
class Progress:
    """How far a run has got (for a progress line); `new` counts findings first seen in this run."""

    accounts: int = 0
    pages: int = 0
    total: int | None = None
    entries_checked: int = 0
    found: dict[FindingState, int] = field(default_factory=lambda: dict.fromkeys(FindingState, 0))
    new: dict[FindingState, int] = field(default_factory=lambda: dict.fromkeys(FindingState, 0))


@dataclass
class Walk:
    """What one run works with. `keep` is awaited after every page (renews the lease; raises to stop)."""

    operations: AppOperations
    resources: Resources
    runs: Reconciliations
    run_id: UUID
    started: datetime
    deadline: float
    keep: Callable[[], Awaitable[None]]
    on_page: Callable[[Progress], None] = lambda progress: None
    page_size: int = PAGE_SIZE
    kind: Kind = Kind.USER
    progress: Progress = field(default_factory=Progress)


async def reconcile(walk: Walk) -> Progress:
    """Run both passes; returns the final progress (accounts read, findings by state)."""
    walk.operations.require(walk.kind, Op.SEARCH)
    await _vendor_pass(walk)
    await _directory_pass(walk)
    return walk.progress


async def _vendor_pass(walk: Walk) -> None:
    start, progress = 1, walk.progress
    while True:
        # A budget per page: its status list stays one page long; the run's deadline bounds them all.
        query = ListQuery(filter=None, start_index=start, count=walk.page_size)
        page = await walk.operations.search(CallBudget(walk.deadline), walk.kind, query)
        progress.total = page.total
        accounts = [resource for resource in page.resources if resource.get("id") is not None]
        entries = await walk.resources.by_vendor_ids(walk.kind, [str(r["id"]) for r in accounts])
        observations = [o for r in accounts for o in observe(walk.kind, r, entries.get(str(r["id"])))]
        await _record(walk, observations)
        await walk.runs.mark_seen(walk.run_id, [entry.id for entry in entries.values()])
        progress.accounts += len(page.resources)
        progress.pages += 1
        walk.on_page(progress)
        await walk.keep()
        if not page.resources or progress.accounts >= page.total:
            return
        start += len(page.resources)
        if progress.pages > page.total // max(1, walk.page_size) + 1_000:
            raise VendorBadResponse(f"{walk.operations.connector.vendor}: listing {walk.kind.value}s did not end")


async def _directory_pass(walk: Walk) -> None:
    after = None
    while entries := await walk.resources.entries(walk.kind, after, walk.page_size):
        after = entries[-1].id
        candidates = [entry for entry in entries if _expected_at_vendor(entry, walk.started)]
        seen = await walk.runs.seen_among(walk.run_id, [entry.id for entry in candidates])
        missing = [
            Observation(walk.kind, str(entry.vendor_id), FindingState.MISSING, entry.id, entry.state.user_name)
            for entry in candidates
            if entry.id not in seen
        ]
        await _record(walk, missing)
        walk.progress.entries_checked += len(entries)
        await walk.keep()


def _expected_at_vendor(entry: Entry, started: datetime) -> bool:
    """Whether the vendor should hold this entry's account: linked, visible, there before the run began."""
    deleting = entry.pending is not None and entry.pending.op is IntentOp.DELETE
    return entry.visible and entry.vendor_id is not None and entry.created < started and not deleting


async def _record(walk: Walk, observations: list[Observation]) -> None:
    new = await walk.runs.record(walk.run_id, observations)
    for observation in observations:
        walk.progress.found[observation.state] += 1
    for state, count in new.items():
        walk.progress.new[state] += count
