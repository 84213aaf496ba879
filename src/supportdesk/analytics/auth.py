"""Analytics: admins and analysts may read the summary; agents may not."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor, Role
from supportdesk.auth.deps import allow

AnalyticsRead = Annotated[Actor, Depends(allow(Role.ADMIN, Role.ANALYST))]
