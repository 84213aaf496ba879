"""Organizations: any staff role may read its own; only admins change it (sign-up needs no token)."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ADMINS, ANY_ROLE, allow

OrganizationRead = Annotated[Actor, Depends(allow(*ANY_ROLE))]
OrganizationWrite = Annotated[Actor, Depends(allow(*ADMINS))]
