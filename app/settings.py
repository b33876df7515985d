"""All configuration, read from ``HAPPY_*`` environment variables with safe defaults.

Nothing else in the code base reads the environment. Programme rules (welcome bonus,
earn rates, reward levels) are data in the database, not settings; what lives here is
how this process runs: where the database is, how SMS and files leave, keys and limits
that protect the doors.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.secret_strength import HOW_TO_MAKE_ONE, secret_weakness

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


DEV_KEY_DIR = VAR_DIR / "keys"


def _development_keys() -> set[str]:
    """The development keys made under ``var/keys`` (``auth.keys``), if any."""
    found = set()
    for name in ("jwt.key", "hash.key"):
        path = DEV_KEY_DIR / name
        if path.is_file():
            found.add(path.read_text().strip())
    return found


class SettingsError(RuntimeError):
    """The configuration is unusable (for example development keys in production)."""


def _env(name: str, default: str) -> str:
    return os.environ.get(f"HAPPY_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"HAPPY_{name}")
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"HAPPY_{name} must be an integer, got {raw!r}") from exc


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(f"HAPPY_{name}")
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"HAPPY_{name} must be a number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"HAPPY_{name}")
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _env(name, default).split(",") if part.strip())


# --- The programme's operator and legal texts (microsite footer, /terms, /privacy) ---
LEGAL_PLACEHOLDERS = PROJECT_ROOT / "static" / "microsite" / "legal"
LEGAL_LANGUAGES = ("sq", "en")


@dataclass(frozen=True)
class Operator:
    """Who runs the programme, as members see it: named in the microsite's footer and on
    the terms and privacy pages, whose texts the operator supplies.

    ``terms_file`` and ``privacy_file`` are HTML fragments (the operator's own, trusted
    text); ``{lang}`` in the path is replaced by ``sq`` or ``en``. A language without a
    file falls back to Albanian. The defaults are placeholders to be replaced.
    """

    name: str = "Happy (demo operator)"
    contact: str = "info@happy.example"
    terms_file: str = str(LEGAL_PLACEHOLDERS / "terms.{lang}.html")
    privacy_file: str = str(LEGAL_PLACEHOLDERS / "privacy.{lang}.html")

    def legal_file(self, page: str, lang: str) -> Path:
        """The file of ``page`` (``terms`` or ``privacy``) in ``lang``, else in Albanian."""
        pattern = self.terms_file if page == "terms" else self.privacy_file
        wanted = Path(pattern.replace("{lang}", lang))
        return wanted if wanted.is_file() else Path(pattern.replace("{lang}", "sq"))

    def problems(self) -> list[str]:
        """What makes this unusable (empty when fine): names and Albanian texts required."""
        found = []
        if not self.name.strip():
            found.append("HAPPY_OPERATOR_NAME must not be empty")
        if not self.contact.strip():
            found.append("HAPPY_OPERATOR_CONTACT must not be empty")
        for page, variable in (("terms", "HAPPY_TERMS_FILE"), ("privacy", "HAPPY_PRIVACY_FILE")):
            if not self.legal_file(page, "sq").is_file():
                found.append(f"{variable}: no file {self.legal_file(page, 'sq')}")
        return found


def _load_operator() -> Operator:
    defaults = Operator()
    operator = Operator(
        name=_env("OPERATOR_NAME", defaults.name).strip(),
        contact=_env("OPERATOR_CONTACT", defaults.contact).strip(),
        terms_file=_env("TERMS_FILE", defaults.terms_file),
        privacy_file=_env("PRIVACY_FILE", defaults.privacy_file),
    )
    problems = operator.problems()
    if problems:
        raise SettingsError("; ".join(problems))
    return operator


# --- end of the operator block ---


# --- Member messages (app/messages): channels, delivery, quiet hours, the worker ---
@dataclass(frozen=True)
class MessageSettings:
    """How member messages leave (``HAPPY_MESSAGES_*``, ``HAPPY_SMTP_*``, ``HAPPY_FCM_*``,
    ``HAPPY_APNS_PUSH_*``, ``HAPPY_VIBER_*``). Every ``*_backend`` defaults to ``outbox``:
    JSON lines in ``outbox_dir/<channel>.jsonl`` (SMS: ``HAPPY_SMS_OUTBOX``)."""

    outbox_dir: Path = VAR_DIR / "outbox"
    email_backend: str = "outbox"  # outbox | smtp
    email_from: str = "Happy <no-reply@happy.example>"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = "starttls"  # starttls | tls | none
    push_backend: str = "outbox"  # outbox | live (FCM for android, APNs for ios)
    fcm_project_id: str = ""
    fcm_service_account_file: str = ""
    apns_push_key_file: str = ""  # the .p8 token key
    apns_push_key_id: str = ""
    apns_push_topic: str = ""  # the app's bundle id
    apns_push_sandbox: bool = False
    viber_backend: str = "outbox"  # outbox | rest
    viber_url: str = ""
    viber_token: str = ""
    viber_sender: str = "Happy"
    quiet_hours: str = "21:00-09:00"  # marketing waits until the end, member's time zone
    max_attempts: int = 8  # then the message is a dead letter (failed, with the last error)
    lease_seconds: int = 60  # a claimed message a killed worker left is retried after this
    worker_poll_seconds: float = 2.0
    # name=cron;... overrides of the worker's job times (docs/messages.md lists the jobs)
    job_schedules: str = ""

    def problems(self) -> list[str]:
        found = []
        choices = {
            "EMAIL_BACKEND": (self.email_backend, {"outbox", "smtp"}),
            "PUSH_BACKEND": (self.push_backend, {"outbox", "live"}),
            "VIBER_BACKEND": (self.viber_backend, {"outbox", "rest"}),
            "SMTP_SECURITY": (self.smtp_security, {"starttls", "tls", "none"}),
        }
        for name, (value, allowed) in choices.items():
            if value not in allowed:
                found.append(f"HAPPY_{name} must be one of {', '.join(sorted(allowed))}")
        if self.max_attempts < 1 or self.lease_seconds < 1:
            found.append("HAPPY_MESSAGES_MAX_ATTEMPTS and _LEASE_SECONDS must be at least 1")
        if self.viber_backend == "rest" and not (self.viber_url and self.viber_token):
            found.append("HAPPY_VIBER_BACKEND=rest needs HAPPY_VIBER_URL and HAPPY_VIBER_TOKEN")
        return found


def _load_message_settings() -> MessageSettings:
    d = MessageSettings()
    return MessageSettings(
        outbox_dir=Path(_env("MESSAGES_OUTBOX_DIR", str(d.outbox_dir))),
        email_backend=_env("EMAIL_BACKEND", d.email_backend),
        email_from=_env("EMAIL_FROM", d.email_from),
        smtp_host=_env("SMTP_HOST", d.smtp_host),
        smtp_port=_env_int("SMTP_PORT", d.smtp_port),
        smtp_username=_env("SMTP_USERNAME", ""),
        smtp_password=_env("SMTP_PASSWORD", ""),
        smtp_security=_env("SMTP_SECURITY", d.smtp_security),
        push_backend=_env("PUSH_BACKEND", d.push_backend),
        fcm_project_id=_env("FCM_PROJECT_ID", ""),
        fcm_service_account_file=_env("FCM_SERVICE_ACCOUNT_FILE", ""),
        apns_push_key_file=_env("APNS_PUSH_KEY_FILE", ""),
        apns_push_key_id=_env("APNS_PUSH_KEY_ID", ""),
        apns_push_topic=_env("APNS_PUSH_TOPIC", ""),
        apns_push_sandbox=_env_bool("APNS_PUSH_SANDBOX", False),
        viber_backend=_env("VIBER_BACKEND", d.viber_backend),
        viber_url=_env("VIBER_URL", ""),
        viber_token=_env("VIBER_TOKEN", ""),
        viber_sender=_env("VIBER_SENDER", d.viber_sender),
        quiet_hours=_env("MESSAGES_QUIET_HOURS", d.quiet_hours),
        max_attempts=_env_int("MESSAGES_MAX_ATTEMPTS", d.max_attempts),
        lease_seconds=_env_int("MESSAGES_LEASE_SECONDS", d.lease_seconds),
        worker_poll_seconds=_env_float("WORKER_POLL_SECONDS", d.worker_poll_seconds),
        job_schedules=_env("JOB_SCHEDULES", ""),
    )


# --- end of the member messages block ---


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = f"sqlite+aiosqlite:///{VAR_DIR / 'happy.db'}"
    database_echo: bool = False
    database_pool_size: int = 10
    # Scaling (issue 15, docs/scaling.md): a read replica for lag-tolerant reads (empty: the
    # primary), PgBouncer in transaction pooling mode in front of the database (no
    # prepared statements kept across transactions), pooled connections replaced after
    # this many seconds, and how long ``happy serve`` lets in-flight requests finish.
    database_replica_url: str = ""
    database_pgbouncer: bool = False
    database_pool_recycle_seconds: int = 1800
    shutdown_timeout_seconds: int = 30
    log_level: str = "INFO"
    public_base_url: str = "http://127.0.0.1:8000"

    # SMS
    sms_backend: str = "outbox"  # outbox | log | sns
    sms_outbox: Path = VAR_DIR / "outbox" / "sms.jsonl"
    sms_sender_id: str = "Happy"
    aws_region: str = "eu-central-1"

    # Member sessions (JWT access tokens, rotating refresh tokens)
    jwt_secret: str = ""  # empty: a development key is generated under var/
    jwt_issuer: str = "happy"
    jwt_audience: str = "happy-member"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    # Pepper for hashing one-time codes and phone numbers; generated under var/ in development.
    hash_secret: str = ""

    # Phone numbers
    default_region: str = "AL"
    allowed_regions: tuple[str, ...] = ("AL", "XK", "MK", "ME")

    # One-time codes
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    otp_resend_seconds: int = 30
    otp_max_sends_per_hour: int = 5
    otp_sends_per_ip_per_hour: int = 30
    otp_verifies_per_ip_per_hour: int = 60

    # GraphQL protection
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 15
    graphql_max_tokens: int = 2000
    graphiql: bool = True
    # Request hardening (issue 16): cost of a query (fields times the lists they are in),
    # the time one request may take, request body sizes (the partner door's importReceipts
    # batch needs the larger one) and how deeply a JSON body may nest.
    graphql_max_cost: int = 50_000
    request_timeout_seconds: float = 10.0
    max_body_bytes: int = 256 * 1024
    partner_max_body_bytes: int = 4 * 1024 * 1024
    max_json_depth: int = 64

    # Files (QR images, passes): local disk or S3
    storage: str = "local"  # local | s3
    storage_dir: Path = VAR_DIR / "files"
    s3_bucket: str = ""
    s3_region: str = "eu-central-1"
    s3_endpoint_url: str = ""
    s3_prefix: str = "happy/"

    # Apple Wallet
    apple_pass_type_id: str = "pass.al.happy.card"
    apple_team_id: str = "HAPPYDEV00"
    apple_organization_name: str = "Happy"
    apple_pass_cert: str = ""  # path or s3://bucket/key, PEM
    apple_pass_key: str = ""  # path or s3://bucket/key, PEM
    apple_pass_key_password: str = ""
    apple_wwdr_cert: str = ""  # path or s3://bucket/key, PEM
    apns_backend: str = "outbox"  # outbox (recorded, not sent) | http2

    # Google Wallet
    google_issuer_id: str = "3388000000000000000"
    google_class_suffix: str = "happy_card"
    google_service_account_file: str = ""  # JSON key file of the service account
    google_origins: tuple[str, ...] = ("http://127.0.0.1:8000",)
    card_token_ttl_seconds: int = 60

    # Wallet integration (app/wallet): outboxes of the development backends, dev certificates
    wallet_dev_dir: Path = VAR_DIR / "wallet"  # dev pass chain and Google key (not production)
    apns_outbox: Path = VAR_DIR / "outbox" / "apns.jsonl"
    google_wallet_backend: str = "outbox"  # outbox (recorded, not sent) | rest
    google_outbox: Path = VAR_DIR / "outbox" / "google-wallet.jsonl"
    google_program_logo_url: str = ""
    wallet_link_ttl_seconds: int = 600  # signed links to the QR PNG and the .pkpass

    # Outbox (app/events): after-commit work of event subscribers, retried until done
    outbox_poll_seconds: int = 30  # how often a server delivers rows left due (0: never)
    # Deliver a request's outbox rows before its answer (tests, debugging) instead of in a
    # background task after it (the default: no delivery work on the request's path).
    outbox_deliver_inline: bool = False
    # Production hardening (issue 16: proxies, schema visibility, retry hints)
    # Peers (addresses or CIDRs, IPv4/IPv6) whose X-Forwarded-For is believed; nobody else's.
    trusted_proxies: tuple[str, ...] = ()
    # In production introspection is off; a request carrying this token in the
    # X-Introspection-Token header may introspect (empty: nobody may).
    graphql_introspection_token: str = ""
    # Seconds a client is told to wait (Retry-After) when the database is unreachable.
    service_unavailable_retry_after_seconds: int = 2
    operator: Operator = Operator()  # footer, terms and privacy pages (the block above)
    # USSD door (issue 11): gateway token from the environment (more with `happy ussd
    # gateway create`), optional source allow-list, session lifetime, per-number limits.
    ussd_gateway_token: str = ""
    ussd_allowed_ips: tuple[str, ...] = ()
    ussd_session_seconds: int = 180
    ussd_registrations_per_phone_per_day: int = 3
    ussd_claims_per_phone_per_day: int = 5
    # Kiosk tablets (issue 10)
    kiosk_visit_idle_seconds: int = 60  # a visit session ends after this long untouched
    kiosk_enrolment_code_hours: int = 24  # how long a new kiosk's enrolment code is valid
    prize_exchange_cancel_hours: int = 168  # staff may cancel an exchange this long after it
    messages: MessageSettings = MessageSettings()  # member messages (the block above)

    @property
    def apple_web_service_url(self) -> str:
        """Apple's ``webServiceURL``: the pass web service lives under ``/wallet``."""
        return f"{self.public_base_url.rstrip('/')}/wallet"

    def wallet_problems(self) -> list[str]:
        """Why the wallet configuration is unfit for production (empty when fine)."""
        problems = []
        if not (self.apple_pass_cert and self.apple_pass_key and self.apple_wwdr_cert):
            problems.append(
                "HAPPY_APPLE_PASS_CERT, HAPPY_APPLE_PASS_KEY and HAPPY_APPLE_WWDR_CERT are required"
            )
        if self.apns_backend != "http2":
            problems.append("HAPPY_APNS_BACKEND must be http2")
        if not self.google_service_account_file:
            problems.append("HAPPY_GOOGLE_SERVICE_ACCOUNT_FILE is required")
        if self.google_wallet_backend != "rest":
            problems.append("HAPPY_GOOGLE_WALLET_BACKEND must be rest")
        if not self.public_base_url.startswith("https://"):
            problems.append("HAPPY_PUBLIC_BASE_URL must be https (Apple's webServiceURL)")
        return problems

    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """``trusted_proxies`` parsed (a bare address is a network of one)."""
        networks = []
        for entry in self.trusted_proxies:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as exc:
                raise SettingsError(
                    f"HAPPY_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR network"
                ) from exc
        return tuple(networks)

    def secret_problems(self) -> list[str]:
        """Why the configured secrets are unfit for production (empty when fine)."""
        problems = []
        secrets = [("HAPPY_JWT_SECRET", self.jwt_secret), ("HAPPY_HASH_SECRET", self.hash_secret)]
        if self.graphql_introspection_token:
            secrets.append(("HAPPY_GRAPHQL_INTROSPECTION_TOKEN", self.graphql_introspection_token))
        for name, value in secrets:
            if not value:
                problems.append(f"{name} is required")
                continue
            weakness = secret_weakness(value)
            if weakness:
                problems.append(f"{name} is too weak: {weakness}")
            elif value in _development_keys():
                problems.append(f"{name} is a development key from {DEV_KEY_DIR}")
        if self.jwt_secret and self.jwt_secret == self.hash_secret:
            problems.append("HAPPY_JWT_SECRET and HAPPY_HASH_SECRET must differ")
        if problems:
            problems.append(f"make each secret with: {HOW_TO_MAKE_ONE}")
        return problems

    def production_problems(self) -> list[str]:
        """Every reason the configuration is unfit for production (empty when fine)."""
        problems = []
        if self.sms_backend == "outbox":
            problems.append("HAPPY_SMS_BACKEND=outbox is for development only")
        problems.extend(self.secret_problems())
        if self.graphiql:
            problems.append("HAPPY_GRAPHIQL must be off")
        problems.extend(self.wallet_problems())
        return problems

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def validate(self, extra_problems: list[str] | None = None) -> None:
        """Refuse malformed configurations, and in production unsafe ones.

        In production every problem found goes into one message: the settings' own
        (:meth:`production_problems`) and ``extra_problems`` found by inspecting what they
        point at (the start of the app adds the wallet files'), so an operator fixes all at once.
        """
        self.validate_values()
        if self.is_production:
            problems = [*self.production_problems(), *(extra_problems or [])]
            if problems:
                raise SettingsError("refusing to start in production: " + "; ".join(problems))

    def validate_values(self) -> None:
        """Refuse values that are malformed in any environment."""
        if self.env not in {"development", "production", "test"}:
            raise SettingsError(
                f"HAPPY_ENV must be development, test or production, not {self.env!r}"
            )
        if self.sms_backend not in {"outbox", "log", "sns"}:
            raise SettingsError(
                f"HAPPY_SMS_BACKEND must be outbox, log or sns, not {self.sms_backend!r}"
            )
        if self.storage not in {"local", "s3"}:
            raise SettingsError(f"HAPPY_STORAGE must be local or s3, not {self.storage!r}")
        if self.storage == "s3" and not self.s3_bucket:
            raise SettingsError("HAPPY_STORAGE=s3 needs HAPPY_S3_BUCKET")
        if self.access_token_ttl_seconds > 900:
            raise SettingsError("HAPPY_ACCESS_TOKEN_TTL_SECONDS may be at most 900 (15 minutes)")
        self.trusted_proxy_networks()
        if self.database_replica_url and (
            self.database_replica_url.startswith("sqlite") != self.is_sqlite
        ):
            raise SettingsError(
                "HAPPY_DATABASE_REPLICA_URL must use the same database kind as HAPPY_DATABASE_URL"
            )
        if self.database_pool_recycle_seconds < 1:
            raise SettingsError("HAPPY_DATABASE_POOL_RECYCLE_SECONDS must be at least 1")
        if self.shutdown_timeout_seconds < 1:
            raise SettingsError("HAPPY_SHUTDOWN_TIMEOUT_SECONDS must be at least 1")
        if self.service_unavailable_retry_after_seconds < 1:
            raise SettingsError("HAPPY_SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS must be at least 1")
        if self.messages.problems():
            raise SettingsError("; ".join(self.messages.problems()))


def load_settings(*, check_production: bool = True) -> Settings:
    """Read settings from the environment (uncached).

    ``check_production=False`` leaves the production checks to the caller, who adds what it
    finds in files to the same message (``app.main.preflight``).
    """
    env = _env("ENV", "development")
    default_db = f"sqlite+aiosqlite:///{VAR_DIR / 'happy.db'}"
    settings = Settings(
        env=env,
        database_url=_env("DATABASE_URL", default_db),
        database_echo=_env_bool("DATABASE_ECHO", False),
        database_pool_size=_env_int("DATABASE_POOL_SIZE", 10),
        database_replica_url=_env("DATABASE_REPLICA_URL", ""),
        database_pgbouncer=_env_bool("DATABASE_PGBOUNCER", False),
        database_pool_recycle_seconds=_env_int("DATABASE_POOL_RECYCLE_SECONDS", 1800),
        shutdown_timeout_seconds=_env_int("SHUTDOWN_TIMEOUT_SECONDS", 30),
        log_level=_env("LOG_LEVEL", "INFO"),
        public_base_url=_env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        sms_backend=_env("SMS_BACKEND", "outbox"),
        sms_outbox=Path(_env("SMS_OUTBOX", str(VAR_DIR / "outbox" / "sms.jsonl"))),
        sms_sender_id=_env("SMS_SENDER_ID", "Happy"),
        aws_region=_env("AWS_REGION", "eu-central-1"),
        jwt_secret=_env("JWT_SECRET", ""),
        jwt_issuer=_env("JWT_ISSUER", "happy"),
        jwt_audience=_env("JWT_AUDIENCE", "happy-member"),
        access_token_ttl_seconds=_env_int("ACCESS_TOKEN_TTL_SECONDS", 900),
        refresh_token_ttl_days=_env_int("REFRESH_TOKEN_TTL_DAYS", 30),
        hash_secret=_env("HASH_SECRET", ""),
        default_region=_env("DEFAULT_REGION", "AL").upper(),
        allowed_regions=tuple(r.upper() for r in _env_list("ALLOWED_REGIONS", "AL,XK,MK,ME")),
        otp_ttl_seconds=_env_int("OTP_TTL_SECONDS", 300),
        otp_max_attempts=_env_int("OTP_MAX_ATTEMPTS", 5),
        otp_resend_seconds=_env_int("OTP_RESEND_SECONDS", 30),
        otp_max_sends_per_hour=_env_int("OTP_MAX_SENDS_PER_HOUR", 5),
        otp_sends_per_ip_per_hour=_env_int("OTP_SENDS_PER_IP_PER_HOUR", 30),
        otp_verifies_per_ip_per_hour=_env_int("OTP_VERIFIES_PER_IP_PER_HOUR", 60),
        graphql_max_depth=_env_int("GRAPHQL_MAX_DEPTH", 10),
        graphql_max_aliases=_env_int("GRAPHQL_MAX_ALIASES", 15),
        graphql_max_tokens=_env_int("GRAPHQL_MAX_TOKENS", 2000),
        graphiql=_env_bool("GRAPHIQL", env != "production"),
        # Request hardening (issue 16)
        graphql_max_cost=_env_int("GRAPHQL_MAX_COST", 50_000),
        request_timeout_seconds=_env_float("REQUEST_TIMEOUT_SECONDS", 10.0),
        max_body_bytes=_env_int("MAX_BODY_BYTES", 256 * 1024),
        partner_max_body_bytes=_env_int("PARTNER_MAX_BODY_BYTES", 4 * 1024 * 1024),
        max_json_depth=_env_int("MAX_JSON_DEPTH", 64),
        storage=_env("STORAGE", "local"),
        storage_dir=Path(_env("STORAGE_DIR", str(VAR_DIR / "files"))),
        s3_bucket=_env("S3_BUCKET", ""),
        s3_region=_env("S3_REGION", "eu-central-1"),
        s3_endpoint_url=_env("S3_ENDPOINT_URL", ""),
        s3_prefix=_env("S3_PREFIX", "happy/"),
        apple_pass_type_id=_env("APPLE_PASS_TYPE_ID", "pass.al.happy.card"),
        apple_team_id=_env("APPLE_TEAM_ID", "HAPPYDEV00"),
        apple_organization_name=_env("APPLE_ORGANIZATION_NAME", "Happy"),
        apple_pass_cert=_env("APPLE_PASS_CERT", ""),
        apple_pass_key=_env("APPLE_PASS_KEY", ""),
        apple_pass_key_password=_env("APPLE_PASS_KEY_PASSWORD", ""),
        apple_wwdr_cert=_env("APPLE_WWDR_CERT", ""),
        apns_backend=_env("APNS_BACKEND", "outbox"),
        google_issuer_id=_env("GOOGLE_ISSUER_ID", "3388000000000000000"),
        google_class_suffix=_env("GOOGLE_CLASS_SUFFIX", "happy_card"),
        google_service_account_file=_env("GOOGLE_SERVICE_ACCOUNT_FILE", ""),
        google_origins=_env_list("GOOGLE_ORIGINS", "http://127.0.0.1:8000"),
        card_token_ttl_seconds=_env_int("CARD_TOKEN_TTL_SECONDS", 60),
        wallet_dev_dir=Path(_env("WALLET_DEV_DIR", str(VAR_DIR / "wallet"))),
        apns_outbox=Path(_env("APNS_OUTBOX", str(VAR_DIR / "outbox" / "apns.jsonl"))),
        google_wallet_backend=_env("GOOGLE_WALLET_BACKEND", "outbox"),
        google_outbox=Path(_env("GOOGLE_OUTBOX", str(VAR_DIR / "outbox" / "google-wallet.jsonl"))),
        google_program_logo_url=_env("GOOGLE_PROGRAM_LOGO_URL", ""),
        wallet_link_ttl_seconds=_env_int("WALLET_LINK_TTL_SECONDS", 600),
        outbox_poll_seconds=_env_int("OUTBOX_POLL_SECONDS", 30),
        outbox_deliver_inline=_env_bool("OUTBOX_DELIVER_INLINE", False),
        trusted_proxies=_env_list("TRUSTED_PROXIES", ""),
        graphql_introspection_token=_env("GRAPHQL_INTROSPECTION_TOKEN", ""),
        service_unavailable_retry_after_seconds=_env_int(
            "SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS", 2
        ),
        operator=_load_operator(),
        ussd_gateway_token=_env("USSD_GATEWAY_TOKEN", ""),
        ussd_allowed_ips=_env_list("USSD_ALLOWED_IPS", ""),
        ussd_session_seconds=_env_int("USSD_SESSION_SECONDS", 180),
        ussd_registrations_per_phone_per_day=_env_int("USSD_REGISTRATIONS_PER_PHONE_PER_DAY", 3),
        ussd_claims_per_phone_per_day=_env_int("USSD_CLAIMS_PER_PHONE_PER_DAY", 5),
        kiosk_visit_idle_seconds=_env_int("KIOSK_VISIT_IDLE_SECONDS", 60),
        kiosk_enrolment_code_hours=_env_int("KIOSK_ENROLMENT_CODE_HOURS", 24),
        prize_exchange_cancel_hours=_env_int("PRIZE_EXCHANGE_CANCEL_HOURS", 168),
        messages=_load_message_settings(),
    )
    if check_production:
        settings.validate()
    else:
        settings.validate_values()
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return load_settings()


def operator_name() -> str:
    """Who runs a ``happy`` command, for the audit log and adjustments: ``HAPPY_OPERATOR``,
    else the OS user (read per call: one process may serve several operators in tests)."""
    name = os.environ.get("HAPPY_OPERATOR", "").strip()
    if not name:
        import getpass

        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no user name for this uid (some containers)
            name = f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return name[:80]
