"""Imports every capability's models so ``Base.metadata`` knows all tables (Alembic)."""

from app.ledger import models as ledger_models
from app.members import models as members_models
from app.partners import models as partners_models
from app.programme import models as programme_models
from auth import models as auth_models

__all__ = ["auth_models", "ledger_models", "members_models", "partners_models", "programme_models"]

# Issue 3 (partner POS door): API keys, earn rules, receipts, rewards and vouchers.
from app.partners import earn_rule_models as earn_rule_models
from app.receipts import models as receipts_models  # noqa: F401
from app.rewards import models as rewards_models  # noqa: F401
from auth import api_key_models as api_key_models
