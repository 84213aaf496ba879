"""Knowledge base: any staff role may search it (the portal's search needs no token)."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ANY_ROLE, allow

KnowledgeRead = Annotated[Actor, Depends(allow(*ANY_ROLE))]
