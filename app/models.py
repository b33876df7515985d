"""Imports every capability's models so ``Base.metadata`` knows all tables (Alembic)."""

from app.ledger import models as ledger_models
from app.members import models as members_models
from app.partners import models as partners_models
from app.programme import models as programme_models
from auth import models as auth_models

__all__ = ["auth_models", "ledger_models", "members_models", "partners_models", "programme_models"]
from app.wallet import models as wallet_models

__all__ += ["wallet_models"]
