"""Imports every model module so the two metadata objects are complete (migration checks, tooling)."""

from services.access import models as access_models  # noqa: F401
from services.audit import models as audit_models
from services.calendar import models as calendar_models
from services.db import PlatformBase, SchoolBase
from services.grading import models as grading_models
from services.identity import models as identity_models
from services.journal import models as journal_models
from services.messages import models as messages_models
from services.notifications import models as notifications_models  # noqa: F401
from services.outbox import models as outbox_models
from services.plan import models as plan_models
from services.region import models as region_models
from services.structure import models as structure_models
from services.support import models as support_models  # noqa: F401
from services.surveys import models as surveys_models
from services.timetable import models as timetable_models

__all__ = [
    "PlatformBase",
    "SchoolBase",
    "audit_models",
    "calendar_models",
    "grading_models",
    "identity_models",
    "journal_models",
    "messages_models",
    "outbox_models",
    "plan_models",
    "region_models",
    "structure_models",
    "surveys_models",
    "timetable_models",
]
