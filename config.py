"""Configuration: one class per environment, values from the environment.

``create_app(config)`` loads :class:`Config` and then applies the dict it is given,
so tests build as many apps as they like without touching the environment.
"""
import os

from flask_appbuilder.const import AUTH_DB

BASE_DIR = os.path.abspath(os.path.dirname(__file__))


def database_url(raw: str | None, instance_path: str) -> str:
    """Normalise DATABASE_URL: default SQLite under instance/, psycopg 3 for PostgreSQL."""
    if not raw:
        return "sqlite:///" + os.path.join(instance_path, "agencydesk.db")
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://"):]
    return raw


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL"), os.path.join(BASE_DIR, "instance")
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # The firm's time zone: every recurrence and "today" is evaluated in it.
    AGENCYDESK_TIMEZONE = os.environ.get("AGENCYDESK_TIMEZONE", "Asia/Shanghai")

    APP_NAME = "代账工作台"
    APP_THEME = ""
    FAB_BASE_TEMPLATE = "agencydesk_base.html"
    FAB_INDEX_VIEW = "app.views.home.HomeView"
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.AgencySecurityManager"
    # Alembic owns the schema; `flask init` syncs permissions once, explicitly
    # (FAB_NOTES: FAB would otherwise create tables and sync perms on every start).
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = False
    FAB_ADD_SECURITY_VIEWS = True
    # FAB's raw permission / view-menu screens list internal names only; roles are
    # edited on the role screen.
    FAB_ADD_SECURITY_PERMISSION_VIEW = False
    FAB_ADD_SECURITY_VIEW_MENU_VIEW = False
    FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW = False
    FAB_API_SWAGGER_UI = False
    FAB_API_MAX_PAGE_SIZE = 100

    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"

    # Chinese first, English selectable. "zh" is the key FAB's own catalogue uses.
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "简体中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"

    # Getting in: rate limits on /login/ and the API login, shared by all workers
    # when RATELIMIT_STORAGE_URI points at Redis; lockout counted in the database.
    AUTH_RATE_LIMITED = True
    # FAB sets RATELIMIT_ENABLED=False by default, which silently turns the limiter
    # (and so AUTH_RATE_LIMITED) off.
    RATELIMIT_ENABLED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per minute")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    AUTH_LOCKOUT_THRESHOLD = int(os.environ.get("AUTH_LOCKOUT_THRESHOLD", "5"))
    # Idle sessions end after this many minutes without a request.
    AGENCYDESK_IDLE_MINUTES = int(os.environ.get("AGENCYDESK_IDLE_MINUTES", "30"))
    FAB_PASSWORD_COMPLEXITY_ENABLED = True

    # 客户服务 (seed 002): attachments of service requests (default instance/attachments,
    # outside the web root) and their size limit; notices are e-mailed through this
    # SMTP server when AGENCYDESK_SMTP_HOST is set (else they stay in the bell only).
    AGENCYDESK_ATTACHMENT_DIR = os.environ.get("AGENCYDESK_ATTACHMENT_DIR")
    AGENCYDESK_ATTACHMENT_MAX_MB = float(os.environ.get("AGENCYDESK_ATTACHMENT_MAX_MB", "10"))
    AGENCYDESK_SMTP_HOST = os.environ.get("AGENCYDESK_SMTP_HOST")
    AGENCYDESK_SMTP_PORT = int(os.environ.get("AGENCYDESK_SMTP_PORT", "25"))
    AGENCYDESK_SMTP_TLS = os.environ.get("AGENCYDESK_SMTP_TLS", "") == "1"
    AGENCYDESK_SMTP_USER = os.environ.get("AGENCYDESK_SMTP_USER")
    AGENCYDESK_SMTP_PASSWORD = os.environ.get("AGENCYDESK_SMTP_PASSWORD")
    AGENCYDESK_SMTP_SENDER = os.environ.get("AGENCYDESK_SMTP_SENDER", "agencydesk@localhost")
    # FAB_PASSWORD_COMPLEXITY_VALIDATOR is set in create_app (it must be a callable).

    # Scheduler (`flask scheduler run`; README, "Running the scheduler"). A failed or
    # abandoned run is retried after these waits in minutes (the last one repeats);
    # a claim whose holder shows no sign of life for the lease is reported stale (and
    # taken over where no per-job lock exists); a job is late when the occurrence
    # due this many minutes ago has not succeeded; the obligation sync commits every
    # this many clients.
    SCHEDULER_RETRY_MINUTES = os.environ.get("AGENCYDESK_RETRY_MINUTES", "1,5,15,60")
    SCHEDULER_LEASE_SECONDS = int(os.environ.get("AGENCYDESK_JOB_LEASE_SECONDS", "600"))
    SCHEDULER_LATE_MINUTES = int(os.environ.get("AGENCYDESK_JOB_LATE_MINUTES", "120"))
    SCHEDULER_CHUNK_SIZE = int(os.environ.get("AGENCYDESK_SYNC_CHUNK", "5000"))

    UPLOAD_FOLDER = os.path.join(BASE_DIR, "instance", "uploads")
    PAGE_SIZE = 20


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test"
    WTF_CSRF_ENABLED = False
