"""Webhooks: only admins may list, add or delete them and read their deliveries."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ADMINS, allow

WebhookAdmin = Annotated[Actor, Depends(allow(*ADMINS))]
