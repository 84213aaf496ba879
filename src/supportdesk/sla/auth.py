"""Business hours: any staff role may read them; only admins set them."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ADMINS, ANY_ROLE, allow

BusinessHoursRead = Annotated[Actor, Depends(allow(*ANY_ROLE))]
BusinessHoursWrite = Annotated[Actor, Depends(allow(*ADMINS))]
