"""Audit log: only admins may read it."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ADMINS, allow

AuditRead = Annotated[Actor, Depends(allow(*ADMINS))]
