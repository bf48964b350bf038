"""Creates the benchmark's users in the simplejwt peer's database: seed.py USERNAME PASSWORD ..."""
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
import django  # noqa: E402

django.setup()
from django.contrib.auth.models import User  # noqa: E402

args = sys.argv[1:]
for username, password in zip(args[::2], args[1::2]):
    User.objects.create_user(username=username, email=username, password=password)
