"""Portal users: only argon2 hashes in recon.yaml, made by `recon hash-password`."""
from __future__ import annotations

import os
import subprocess

from argon2 import PasswordHasher

from tests.e2e.conftest import RECON


def _env(tmp_path, config_text: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "DAGSTER_"))}
    env["RECON_HOME"] = str(tmp_path / "home")
    if config_text is not None:
        (tmp_path / "recon.yaml").write_text(config_text, encoding="utf-8")
        env["RECON_CONFIG"] = str(tmp_path / "recon.yaml")
    return env


def test_hash_password_prints_a_salted_argon2_hash_of_stdin_never_the_password(tmp_path):
    runs = [subprocess.run([RECON, "hash-password"], input="s3cret words\n", capture_output=True, text=True,
                           env=_env(tmp_path), timeout=60) for _ in range(2)]
    hashes = [r.stdout.strip() for r in runs]
    assert all(r.returncode == 0 for r in runs)
    assert hashes[0] != hashes[1]  # a fresh salt each time
    assert all(PasswordHasher().verify(h, "s3cret words") for h in hashes)
    assert all("s3cret" not in r.stdout + r.stderr for r in runs)


def test_hash_password_refuses_an_empty_password(tmp_path):
    run = subprocess.run([RECON, "hash-password"], input="\n", capture_output=True, text=True,
                         env=_env(tmp_path), timeout=60)
    assert run.returncode == 1 and "no password" in run.stderr


def test_a_plain_password_in_recon_yaml_is_refused_with_one_line(tmp_path):
    env = _env(tmp_path, "portal:\n  users:\n    finance: hunter2\n")
    run = subprocess.run([RECON, "serve", "--port", "1"], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 1
    assert run.stderr.strip().count("\n") == 0 and "portal.users.finance" in run.stderr
    assert "hunter2" not in run.stderr


def test_serve_without_users_says_how_to_add_one(tmp_path):
    run = subprocess.run([RECON, "serve", "--port", "1"], capture_output=True, text=True, env=_env(tmp_path),
                         timeout=60)
    assert run.returncode == 1 and "recon hash-password" in run.stderr
