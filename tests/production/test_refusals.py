"""Production refuses weak secrets, development keys, development and placeholder wallet files,
naming every problem in one message."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from pathlib import Path

import pytest

from app import settings as settings_module
from app.db import Database
from app.main import create_app, preflight
from app.secret_strength import estimated_bits, secret_weakness
from app.settings import Settings, SettingsError, load_settings
from app.wallet.runtime import WalletRuntime
from tests.production.conftest import (
    STRONG_HASH_SECRET,
    STRONG_JWT_SECRET,
    WalletFiles,
    make_apple_shaped_files,
    production_settings,
)
from wallet_passes.dev_certs import make_dev_chain
from wallet_passes.google import make_dev_service_account

# --- secrets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a" * 40, "only 1 different character"),
        ("ab" * 20, "2 different characters"),
        ("abcd" * 10, "4 different characters"),
        ("abcdefgh" * 5, "one block repeated"),
        ("0123456789abcdefghijklmnopqrstuvwxyz", "neighbouring characters"),
        ("changeme-" + "Zq8Wx3Rt6Yp1Lk5Mn9Bv2Cf7", "placeholder word 'changeme'"),
        ("short-but-random-9f8Kq", "at least 32 characters"),
        # Review of issue 16: these passed.
        ("passwordpasswordpasswordpassword1", "word 'password'"),
        ("Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3X", "mostly one block repeated"),
        ("happy-production-jwt-secret-key-2025", "word"),
        ("qwertyuiopasdfghjklzxcvbnm123456", "neighbouring keys"),
    ],
)
def test_weak_secrets_are_named_with_the_reason(value: str, reason: str) -> None:
    weakness = secret_weakness(value)
    assert weakness is not None and reason in weakness


def test_generated_secrets_pass() -> None:
    for _ in range(3000):
        assert secret_weakness(secrets.token_urlsafe(48)) is None
        assert secret_weakness(secrets.token_hex(16)) is None  # 128 bits, the minimum length
    assert secret_weakness(STRONG_JWT_SECRET) is None


def test_entropy_estimate() -> None:
    assert estimated_bits("a" * 40) == 0
    assert estimated_bits("ab" * 20) == pytest.approx(40)
    assert estimated_bits(secrets.token_urlsafe(48)) > 200


def _config_only(files: WalletFiles, **changes: object) -> Settings:
    return production_settings(
        Settings(database_url="sqlite+aiosqlite:///unused.db"), files, **changes
    )


def test_a_forty_character_secret_of_one_letter_is_refused(wallet_files: WalletFiles) -> None:
    with pytest.raises(SettingsError) as refused:
        _config_only(wallet_files, jwt_secret="j" * 40).validate()
    assert "HAPPY_JWT_SECRET is too weak: it uses only 1 different character;" in str(refused.value)
    assert "HAPPY_HASH_SECRET" not in str(refused.value)
    assert "secrets.token_urlsafe" in str(refused.value)  # how to make a good one


def test_one_secret_for_both_purposes_is_refused(wallet_files: WalletFiles) -> None:
    with pytest.raises(SettingsError, match="must differ"):
        _config_only(wallet_files, hash_secret=STRONG_JWT_SECRET).validate()


def test_a_development_key_is_refused(
    wallet_files: WalletFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "DEV_KEY_DIR", tmp_path)
    (tmp_path / "jwt.key").write_text(STRONG_JWT_SECRET + "\n")
    with pytest.raises(SettingsError, match=r"HAPPY_JWT_SECRET is a development key"):
        _config_only(wallet_files).validate()


def test_weak_introspection_token_is_refused(wallet_files: WalletFiles) -> None:
    with pytest.raises(SettingsError, match="HAPPY_GRAPHQL_INTROSPECTION_TOKEN is too weak"):
        _config_only(wallet_files, graphql_introspection_token="letmein").validate()


def test_the_environment_is_read_and_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAPPY_ENV", "production")
    monkeypatch.setenv("HAPPY_JWT_SECRET", "x" * 40)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    # One message naming every problem, not the first one found.
    for name in (
        "HAPPY_SMS_BACKEND",
        "HAPPY_JWT_SECRET is too weak",
        "HAPPY_HASH_SECRET is required",
        "HAPPY_APNS_BACKEND",
        "HAPPY_GOOGLE_SERVICE_ACCOUNT_FILE",
    ):
        assert name in message
    assert message.count("refusing to start") == 1


# --- wallet files ------------------------------------------------------------------------


def test_apple_shaped_files_are_accepted(wallet_files: WalletFiles) -> None:
    settings = _config_only(wallet_files)
    assert WalletRuntime(settings).production_problems() == []
    preflight(settings)


def test_development_pass_chain_is_refused(wallet_files: WalletFiles, tmp_path: Path) -> None:
    chain = make_dev_chain(tmp_path / "dev", "pass.al.happy.card", "HAPPYDEV00")
    settings = _config_only(
        wallet_files,
        apple_pass_cert=str(chain.pass_cert),
        apple_pass_key=str(chain.pass_key),
        apple_wwdr_cert=str(chain.wwdr_cert),
    )
    problems = WalletRuntime(settings).production_problems()
    assert any("HAPPY_APPLE_PASS_CERT is a development certificate" in p for p in problems)
    assert any("HAPPY_APPLE_WWDR_CERT is a development certificate" in p for p in problems)


def test_files_under_the_development_folder_are_refused(
    wallet_files: WalletFiles, tmp_path: Path
) -> None:
    dev_dir = tmp_path / "wallet-dev"
    copied = make_apple_shaped_files(dev_dir)
    settings = _config_only(
        wallet_files, wallet_dev_dir=dev_dir, google_service_account_file=str(copied.google_account)
    )
    problems = WalletRuntime(settings).production_problems()
    assert problems == [f"HAPPY_GOOGLE_SERVICE_ACCOUNT_FILE is a development file under {dev_dir}"]


def test_self_signed_expired_and_mismatched_certificates_are_refused(
    wallet_files: WalletFiles, tmp_path: Path
) -> None:
    other = make_apple_shaped_files(tmp_path / "other", expired=True)
    settings = _config_only(
        wallet_files,
        apple_pass_cert=str(other.pass_cert),  # expired, and not the key's certificate
        apple_wwdr_cert=str(tmp_path / "missing.pem"),
    )
    problems = WalletRuntime(settings).production_problems()
    assert any(p.startswith("HAPPY_APPLE_PASS_CERT expired on") for p in problems)
    assert "HAPPY_APPLE_PASS_KEY does not belong to HAPPY_APPLE_PASS_CERT" in problems
    assert any(p.startswith("HAPPY_APPLE_WWDR_CERT cannot be read") for p in problems)


@pytest.mark.parametrize(
    ("account", "complaint"),
    [
        (make_dev_service_account(), "is a development service account"),
        (
            make_dev_service_account(project_id="your-project-id"),
            "is a placeholder service account",
        ),
        ({"type": "authorized_user"}, "is not a service-account key file"),
        (
            {**make_dev_service_account(project_id="happy-prod"), "private_key": "-----BEGIN"},
            "private_key is not a usable PEM private key",
        ),
        (
            {**make_dev_service_account(project_id="happy-prod"), "client_email": "me@gmail.com"},
            "client_email is not a Google service account",
        ),
    ],
)
def test_fake_google_service_accounts_are_refused(
    wallet_files: WalletFiles, tmp_path: Path, account: dict[str, str], complaint: str
) -> None:
    path = tmp_path / "account.json"
    path.write_text(json.dumps(account))
    settings = _config_only(wallet_files, google_service_account_file=str(path))
    problems = WalletRuntime(settings).production_problems()
    assert any(complaint in p for p in problems), problems


def test_start_names_every_problem_in_one_message(
    wallet_files: WalletFiles, tmp_path: Path, settings: Settings, db: Database
) -> None:
    chain = make_dev_chain(tmp_path / "dev", "pass.al.happy.card", "HAPPYDEV00")
    fake = tmp_path / "google.json"
    fake.write_text(json.dumps(make_dev_service_account()))
    bad = production_settings(
        settings,
        wallet_files,
        jwt_secret="j" * 40,
        apple_pass_cert=str(chain.pass_cert),
        apple_wwdr_cert=str(chain.wwdr_cert),
        google_service_account_file=str(fake),
    )
    with pytest.raises(SettingsError) as refused:
        create_app(bad, db)
    message = str(refused.value)
    assert message.startswith("refusing to start in production: ")
    for complaint in (
        "HAPPY_JWT_SECRET is too weak",
        "HAPPY_APPLE_PASS_CERT is a development certificate",
        "HAPPY_APPLE_WWDR_CERT is a development certificate",
        "HAPPY_APPLE_PASS_KEY does not belong to HAPPY_APPLE_PASS_CERT",
        "HAPPY_GOOGLE_SERVICE_ACCOUNT_FILE is a development service account",
    ):
        assert complaint in message
    # and a good configuration starts
    create_app(replace(bad, **_good_wallet(wallet_files), jwt_secret=STRONG_JWT_SECRET), db)
    assert STRONG_HASH_SECRET not in message


def _good_wallet(files: WalletFiles) -> dict[str, str]:
    return {
        "apple_pass_cert": str(files.pass_cert),
        "apple_wwdr_cert": str(files.wwdr_cert),
        "google_service_account_file": str(files.google_account),
    }


def test_pass_certificate_not_signed_by_the_wwdr_is_refused(
    wallet_files: WalletFiles, tmp_path: Path
) -> None:
    """Review of issue 16: a chain named like Apple's whose WWDR did not sign the pass
    certificate (another Apple-shaped chain's WWDR here) is refused."""
    other = make_apple_shaped_files(tmp_path / "other")
    settings = _config_only(wallet_files, apple_wwdr_cert=str(other.wwdr_cert))
    problems = WalletRuntime(settings).production_problems()
    assert any("is not signed by HAPPY_APPLE_WWDR_CERT" in p for p in problems), problems
