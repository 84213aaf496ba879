"""Tickets: any staff role may read them; admins and agents open and change them."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ANY_ROLE, WRITERS, allow

TicketRead = Annotated[Actor, Depends(allow(*ANY_ROLE))]
TicketWrite = Annotated[Actor, Depends(allow(*WRITERS))]
