"""Customers: admins and agents may read them, analysts may not; only admins erase one."""

from typing import Annotated

from fastapi import Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ADMINS, WRITERS, allow

# Who the customers are (addresses, names) is for the people who answer them: not analysts.
CustomerRead = Annotated[Actor, Depends(allow(*WRITERS))]
CustomerWrite = Annotated[Actor, Depends(allow(*ADMINS))]
