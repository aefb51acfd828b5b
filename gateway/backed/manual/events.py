"""What happens around a work item's transitions: one audit record each, and a nudge to the webhook sender.

Every transition (opened by the IdP's write; claimed, completed, rejected by an
operator) is audited once it has committed, with the item's id, app, action
and states, the actor (`idp` or the operator's name) and the target userName
as the audit policy keeps it (clear, hashed or omitted). Never the roles, the
changed values or a rejection's reason.
"""

from __future__ import annotations

import asyncio

from gateway.directory.work import WorkItem
from gateway.observability.audit import AuditLog


class WorkEvents:
    """Shared by a runtime's manual apps and its work service."""

    def __init__(self, audit: AuditLog, webhooks: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.audit = audit
        self._webhooks = webhooks
        #: Set when an item with a notification is opened; the webhook sender (webhook.py) waits on it.
        self.wake = asyncio.Event()

    def notifies(self, tenant: str, app: str) -> bool:
        """Whether this app announces its items through a webhook."""
        return (tenant, app) in self._webhooks

    def opened(self, item: WorkItem) -> None:
        """An IdP write added `item` (committed)."""
        self.transition(item, "idp", "opened", before=None)
        if item.notify == "pending":
            self.wake.set()

    def transition(self, item: WorkItem, actor: str, operation: str, *, before: str | None) -> None:
        """One audit record: `operation` (opened, claimed, completed, rejected) took `item` from `before`."""
        self.audit.record(
            {
                "kind": "work_item",
                "operation": f"work.{operation}",
                "tenant": item.tenant,
                "app": item.app,
                "work_item": str(item.id),
                "resource_type": "User",
                "resource_id": str(item.resource_id),
                "action": item.action.value,
                "state_before": before,
                "state": item.state.value,
                "actor": actor,
                "target_user": self.audit.target(item.task.user_name),
                "vendor_id": item.vendor_id,
            }
        )
