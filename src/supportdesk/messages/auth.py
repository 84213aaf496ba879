"""Messages: any staff role may read a ticket's; admins and agents post them."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ANY_ROLE, WRITERS, allow

MessageRead = Annotated[Actor, Depends(allow(*ANY_ROLE))]
MessageWrite = Annotated[Actor, Depends(allow(*WRITERS))]
