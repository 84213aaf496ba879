"""Auto-answers: any staff role may read what the auto-responder decided on a ticket."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ANY_ROLE, allow

StaffRead = Annotated[Actor, Depends(allow(*ANY_ROLE))]
