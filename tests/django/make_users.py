"""Makes one Django user per hasher (PBKDF2 at the default iteration count of each Django version
since 3.2), exports them with `dumpdata auth.user` to OUT/users.json, leaves Django's SQLite
database at OUT/django.sqlite3, and prints the users and their passwords as JSON."""

import json
import os
import sys

OUT = sys.argv[1]
os.environ["DJANGO_DATABASE"] = os.path.join(OUT, "django.sqlite3")
os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import django  # noqa: E402

django.setup()

from django.contrib.auth import hashers  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)


def pbkdf2(iterations):
    class Hasher(hashers.PBKDF2PasswordHasher):
        pass

    Hasher.iterations = iterations
    return Hasher()


# Django 3.2, 4.1, 4.2, 5.0, 5.1 and 5.2's defaults.
made = [(f"pbkdf2-{n}", pbkdf2(n)) for n in (260000, 390000, 600000, 720000, 870000, 1000000)]
made += [
    ("pbkdf2-sha1", hashers.PBKDF2SHA1PasswordHasher()),
    ("argon2", hashers.Argon2PasswordHasher()),
    ("bcrypt-sha256", hashers.BCryptSHA256PasswordHasher()),
    ("bcrypt", hashers.BCryptPasswordHasher()),
    ("scrypt", hashers.ScryptPasswordHasher()),
    ("md5", hashers.MD5PasswordHasher()),
]
users = []
for i, (name, hasher) in enumerate(made):
    # Long and non-ASCII, as passwords are: bcrypt-sha256 exists for those over 72 bytes.
    password = f"Pässwörd-{name}-{i}" + ("-x" * 40 if name == "bcrypt-sha256" else "")
    user = User(username=f"{name}@example.com", email=f"{name}@example.com")
    user.password = hasher.encode(password, hasher.salt())
    assert hashers.check_password(password, user.password), name
    user.save()
    users.append({"username": user.username, "password": password, "hasher": name})

unusable = User(username="unusable@example.com", email="unusable@example.com")
unusable.set_unusable_password()
unusable.save()
inactive = User(username="inactive@example.com", email="inactive@example.com", is_active=False)
inactive.set_password("Inactive-password-1")
inactive.save()
staff = User(username="staff@example.com", email="staff@example.com", is_staff=True)
staff.set_password("Staff-password-1")
staff.save()
users += [
    {"username": "unusable@example.com", "password": "", "hasher": "unusable"},
    {"username": "inactive@example.com", "password": "Inactive-password-1", "hasher": "inactive"},
    {"username": "staff@example.com", "password": "Staff-password-1", "hasher": "staff"},
]

call_command("dumpdata", "auth.user", output=os.path.join(OUT, "users.json"), verbosity=0)
print(json.dumps(users))
