"""Categories: any staff role may read them; only admins create, change or delete them."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ADMINS, ANY_ROLE, allow

CategoryRead = Annotated[Actor, Depends(allow(*ANY_ROLE))]
CategoryWrite = Annotated[Actor, Depends(allow(*ADMINS))]
