"""Users: any staff role may read them; only admins add or change them."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ADMINS, ANY_ROLE, allow

UserRead = Annotated[Actor, Depends(allow(*ANY_ROLE))]
UserWrite = Annotated[Actor, Depends(allow(*ADMINS))]
