"""A throwaway S3-compatible server for the suite: moto in server mode on a free loopback port,
started and stopped like the suite's PostgreSQL and Redis (ceu/testing/services.py). It keeps
everything in memory; each test gets a fresh bucket of its own."""

from __future__ import annotations

import importlib.util
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .services import ServiceUnavailable, _wait_for_port, free_port

REGION = "us-east-1"
# moto accepts any credentials; these never leave the loopback address.
ACCESS_KEY = "ceu-test-access-key"
SECRET_KEY = "ceu-test-secret-key"  # noqa: S105 - a placeholder for a local fake server


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        name = f"ceu-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        """Every object's key in the bucket, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def environment(self, bucket: str) -> dict[str, str]:
        """What a deployer sets to put the site's files in this bucket."""
        return {
            "CEU_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_S3_ADDRESSING_STYLE": "path",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            # Never ask a cloud's metadata service for credentials.
            "AWS_EC2_METADATA_DISABLED": "true",
        }


def default_storage_from_environment(environment: dict[str, str]) -> dict:
    """STORAGES["default"] as the settings build it from this environment: the settings' own
    code is run, so a test of S3 storage tests what a deployment configures."""
    base = Path(__file__).resolve().parent.parent / "settings" / "base.py"
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    try:
        return runpy.run_path(str(base))["STORAGES"]["default"]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """Yield a running moto S3 server; stop it after."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        raise ServiceUnavailable("moto's server is not installed: pip install 'moto[server]'")
    workdir = Path(tempfile.mkdtemp(prefix="ceu-s3-"))
    port = free_port()
    log = open(workdir / "moto.log", "wb")  # noqa: SIM115 - closed after the server stops
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    try:
        try:
            # Importing moto's services takes a while on a loaded machine.
            _wait_for_port(port, timeout=90, process=process)
        except (RuntimeError, TimeoutError) as failed:
            log.flush()
            raise RuntimeError(
                f"moto's S3 server did not start: {failed}\n{(workdir / 'moto.log').read_text()}"
            ) from failed
        yield S3Server(endpoint_url=f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
