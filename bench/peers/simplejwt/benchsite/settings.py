"""A minimal Django project serving djangorestframework-simplejwt, as the peer of Porteiro's
user-login dialect: same paths, same argon2id parameters, SQLite, DEBUG off.

Environment: BENCH_DB (SQLite file), BENCH_ROTATE ("1" for refresh rotation with the
token_blacklist app, as simplejwt documents it), BENCH_SECRET_KEY.
"""
import os
from datetime import timedelta

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECRET_KEY = os.environ.get("BENCH_SECRET_KEY", "bench-only-not-secret-" + "x" * 40)
ROTATE = os.environ.get("BENCH_ROTATE", "0") == "1"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "rest_framework_simplejwt",
] + (["rest_framework_simplejwt.token_blacklist"] if ROTATE else [])

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "benchsite.urls"
WSGI_APPLICATION = "benchsite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", "db.sqlite3"),
        # WAL and immediate write transactions, as Porteiro runs SQLite: without them two
        # gunicorn workers writing at once answer "database is locked".
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}

# argon2id at Porteiro's default parameters (m=19456 KiB, t=2, p=1).
PASSWORD_HASHERS = ["benchsite.hashers.BenchArgon2PasswordHasher"]

USE_TZ = True
LANGUAGE_CODE = "en-us"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING_CONFIG = None

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=1),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": ROTATE,
    "BLACKLIST_AFTER_ROTATION": ROTATE,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
}
