"""One reconciliation of one app: walk the vendor page by page, then the directory, recording findings.

1. Every account at the vendor, `page_size` at a time through the app's operations (so through its
   connector and UpstreamClient: outbound limits, retries, breaker, vendor pauses all apply), each page
   compared with the directory entries linked to its vendor ids (one query per page), its findings
   recorded and the entries it met marked as seen, in the database.
2. Every directory entry of the app, by keyset pages: a visible, linked entry that existed when the run
   started and was not seen at the vendor is missing (unless its deletion is in progress).
Memory holds two vendor pages (one being fetched) and one directory page at a time, whatever the app's
size. Nothing is ever written to the vendor. Raises what the vendor calls raise (ConnectorError) and
DirectoryError. Vendors page by offset: accounts created or deleted at the vendor during the walk shift
the pages, so an account may be read twice (harmless: findings are keyed by vendor id) or skipped (it
then shows as missing until the next run finds it again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from gateway.directory.findings import FindingState, Observation, Reconciliations
from gateway.directory.records import IntentOp
from gateway.directory.resources import Link, Resources
from gateway.operations import AppOperations
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import VendorBadResponse
from gateway.reconcile.compare import observe
from gateway.scim.query import ListQuery
from vendors.base import Kind, Op, Page, Resource

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
    """Vendor pages in order; the next page is being fetched (waiting for its slot under the app's
    outbound rate) while this one is compared and recorded, so the run takes as long as the slower of
    the two, not their sum. At most two pages are held."""
    progress = walk.progress
    fetching = asyncio.create_task(_fetch(walk, 1))
    try:
        while True:
            page = await fetching
            progress.total = page.total
            read = progress.accounts + len(page.resources)
            more = bool(page.resources) and read < page.total
            if more:
                if progress.pages > page.total // max(1, walk.page_size) + 1_000:
                    raise VendorBadResponse(f"{walk.operations.connector.vendor}: listing users did not end")
                fetching = asyncio.create_task(_fetch(walk, read + 1))
            await _compare(walk, page.resources)
            progress.accounts, progress.pages = read, progress.pages + 1
            walk.on_page(progress)
            await walk.keep()
            if not more:
                return
    finally:
        if not fetching.done():
            fetching.cancel()
            await asyncio.gather(fetching, return_exceptions=True)


async def _fetch(walk: Walk, start: int) -> Page:
    # A budget per page: its status list stays one page long; the run's deadline bounds them all.
    query = ListQuery(filter=None, start_index=start, count=walk.page_size)
    return await walk.operations.search(CallBudget(walk.deadline), walk.kind, query)


async def _compare(walk: Walk, resources: list[Resource]) -> None:
    """One vendor page against the directory entries linked to its ids: findings, and seen marks."""
    accounts = [resource for resource in resources if resource.get("id") is not None]
    entries = await walk.resources.by_vendor_ids(walk.kind, [str(r["id"]) for r in accounts])
    observations = [o for r in accounts for o in observe(walk.kind, r, entries.get(str(r["id"])))]
    await _record(walk, observations, seen=[entry.id for entry in entries.values()])


async def _directory_pass(walk: Walk) -> None:
    after = None
    while links := await walk.resources.links(walk.kind, after, walk.page_size):
        after = links[-1].id
        candidates = [link for link in links if _expected_at_vendor(link, walk.started)]
        seen = await walk.runs.seen_among(walk.run_id, [link.id for link in candidates])
        missing = [link for link in candidates if link.id not in seen]
        await _record(walk, [await _missing(walk, link) for link in missing])
        walk.progress.entries_checked += len(links)
        await walk.keep()


def _expected_at_vendor(link: Link, started: datetime) -> bool:
    """Whether the vendor should hold this entry's account: linked, visible, there before the run began."""
    return link.visible and link.vendor_id is not None and link.created < started and link.pending != IntentOp.DELETE


async def _missing(walk: Walk, link: Link) -> Observation:
    entry = await walk.resources.get(walk.kind, link.id)  # for its userName (rare: only missing ones are read)
    user_name = entry.state.user_name if entry is not None else None
    return Observation(walk.kind, str(link.vendor_id), FindingState.MISSING, link.id, user_name)


async def _record(walk: Walk, observations: list[Observation], seen: list[UUID] | None = None) -> None:
    new = await walk.runs.record(walk.run_id, observations, seen or ())
    for observation in observations:
        walk.progress.found[observation.state] += 1
    for state, count in new.items():
        walk.progress.new[state] += count
