from django.contrib.auth.hashers import Argon2PasswordHasher


class BenchArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id at m=19456 KiB, t=2, p=1: Porteiro's defaults (OWASP's first recommendation)."""

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19456
    parallelism = 1
