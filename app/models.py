"""Imports every capability's models so ``Base.metadata`` knows all tables (Alembic)."""

from app.events import outbox as outbox_models
from app.fraud import models as fraud_models
from app.fx import models as fx_models
from app.kiosks import models as kiosks_models
from app.ledger import models as ledger_models
from app.limits import models as limits_models
from app.members import models as members_models
from app.messages import models as messages_models
from app.offers import models as offers_models
from app.partners import earn_rule_models as earn_rule_models
from app.partners import models as partners_models
from app.prizes import models as prizes_models
from app.programme import models as programme_models
from app.receipts import models as receipts_models
from app.redemptions import models as redemptions_models
from app.rewards import models as rewards_models
from app.settlement import models as settlement_models
from app.support import models as support_models
from app.tiers import models as tiers_models
from app.ussd import models as ussd_models
from app.wallet import models as wallet_models
from auth import api_key_models as api_key_models
from auth import kiosk_device_models as kiosk_device_models
from auth import models as auth_models
from auth import ussd_gateway_models as ussd_gateway_models

__all__ = [
    "api_key_models",
    "auth_models",
    "earn_rule_models",
    "fraud_models",
    "fx_models",
    "kiosk_device_models",
    "kiosks_models",
    "ledger_models",
    "limits_models",
    "members_models",
    "messages_models",
    "offers_models",
    "outbox_models",
    "partners_models",
    "prizes_models",
    "programme_models",
    "receipts_models",
    "redemptions_models",
    "rewards_models",
    "settlement_models",
    "support_models",
    "tiers_models",
    "ussd_gateway_models",
    "ussd_models",
    "wallet_models",
]
