"""The original Python recipe under load, for bench/credentials-under-load.ts.

botocore's AssumeRoleCredentialFetcher + DeferredRefreshableCredentials in a boto3 Session,
shared by one EC2 client per thread. Run with Debian's /usr/bin/python3 (python3-boto3).

Two modes:
  --requests N            each thread sends N / threads DescribeRegions back to back;
  --run-seconds S         each thread sends one request every --interval seconds for S seconds.

Prints one JSON object on stdout:
  {"boto3": ..., "botocore": ..., "credentialSets": n,
   "requests": [[start_ms, latency_ms, expiry_ms, wait_ms, error]]}
start_ms and expiry_ms are Unix epoch milliseconds; expiry_ms is the expiration of the
credentials that signed the request; wait_ms is the time the signer spent getting them
(a refresh, when this request did one or waited for one); error is null or the error code;
credentialSets is the number of distinct access keys that signed a request.
When boto3 cannot be imported it prints {"skipped": "<why>"} and exits 0.
"""

import argparse
import json
import sys
import threading
import time


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--role-arn", required=True)
    p.add_argument("--access-key-id", required=True)
    p.add_argument("--secret-access-key", required=True)
    p.add_argument("--duration-seconds", type=int, required=True)
    p.add_argument("--threads", type=int, default=10)
    p.add_argument("--requests", type=int)
    p.add_argument("--run-seconds", type=float)
    p.add_argument("--interval", type=float, default=0.1)
    # Instance overrides of RefreshableCredentials' 15 and 10 min windows (seconds).
    p.add_argument("--advisory-refresh-timeout", type=float)
    p.add_argument("--mandatory-refresh-timeout", type=float)
    return p.parse_args()


def main():
    args = parse_args()
    try:
        import boto3
        import botocore
        from botocore.credentials import (
            AssumeRoleCredentialFetcher,
            DeferredRefreshableCredentials,
        )
        from botocore.exceptions import ClientError
        from botocore.session import Session as BotocoreSession
    except ImportError as e:
        print(json.dumps({"skipped": f"cannot import boto3/botocore: {e}"}))
        return

    regions = ["us-east-1", "eu-west-1"]

    # The recipe, as written for real AWS, plus endpoint_url (botocore 1.29 ignores
    # AWS_ENDPOINT_URL) so that STS and EC2 go to the sandbox.
    base = boto3.Session(
        aws_access_key_id=args.access_key_id,
        aws_secret_access_key=args.secret_access_key,
        region_name="us-east-1",
    )._session

    def client_creator(service_name, **kwargs):
        return base.create_client(
            service_name, region_name="us-east-1", endpoint_url=args.endpoint, **kwargs
        )

    fetcher = AssumeRoleCredentialFetcher(
        client_creator=client_creator,
        source_credentials=base.get_credentials(),
        role_arn=args.role_arn,
        extra_args={"DurationSeconds": args.duration_seconds},
    )

    expiry_by_key = {}
    expiry_lock = threading.Lock()

    def refresh_using():
        metadata = fetcher.fetch_credentials()
        expiry = botocore.credentials._parse_if_needed(metadata["expiry_time"])
        with expiry_lock:
            expiry_by_key[metadata["access_key"]] = expiry.timestamp() * 1000
        return metadata

    creds = DeferredRefreshableCredentials(
        method="assume-role", refresh_using=refresh_using
    )
    if args.advisory_refresh_timeout is not None:
        creds._advisory_refresh_timeout = args.advisory_refresh_timeout
    if args.mandatory_refresh_timeout is not None:
        creds._mandatory_refresh_timeout = args.mandatory_refresh_timeout

    # Measurement only: how long the signer waited for credentials, and which key it used.
    local = threading.local()
    frozen = creds.get_frozen_credentials

    def timed_get_frozen_credentials():
        started = time.perf_counter()
        try:
            return frozen()
        finally:
            local.wait_ms = (time.perf_counter() - started) * 1000

    creds.get_frozen_credentials = timed_get_frozen_credentials

    def record_key(request, **kwargs):
        auth = request.headers.get("Authorization", b"")
        if isinstance(auth, bytes):
            auth = auth.decode()
        marker = "Credential="
        at = auth.find(marker)
        local.key = auth[at + len(marker) :].split("/", 1)[0] if at >= 0 else None

    botocore_session = BotocoreSession()
    botocore_session._credentials = creds
    session = boto3.Session(botocore_session=botocore_session)

    # Clients are created up front: session.client() is not thread-safe.
    clients = []
    for i in range(args.threads):
        client = session.client(
            "ec2", region_name=regions[i % len(regions)], endpoint_url=args.endpoint
        )
        client.meta.events.register("before-send.ec2.DescribeRegions", record_key)
        clients.append(client)

    results = [[] for _ in range(args.threads)]

    def one(client, out):
        local.key = None
        local.wait_ms = 0.0
        start_ms = time.time() * 1000
        started = time.perf_counter()
        error = None
        try:
            client.describe_regions()
        except ClientError as e:
            error = e.response.get("Error", {}).get("Code", "ClientError")
        except Exception as e:  # noqa: BLE001 - any failure is a failed request
            error = type(e).__name__
        latency_ms = (time.perf_counter() - started) * 1000
        out.append([start_ms, latency_ms, local.key, local.wait_ms, error])

    def worker(index):
        client = clients[index]
        out = results[index]
        if args.requests is not None:
            for _ in range(args.requests // args.threads):
                one(client, out)
            return
        t0 = start_at + index * args.interval / args.threads
        i = 0
        while True:
            target = t0 + i * args.interval
            if target - start_at >= args.run_seconds:
                return
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            one(client, out)
            i += 1

    start_at = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    rows = []
    keys_used = set()
    for out in results:
        for start_ms, latency_ms, key, wait_ms, error in out:
            rows.append([start_ms, latency_ms, expiry_by_key.get(key), wait_ms, error])
            if key is not None:
                keys_used.add(key)
    json.dump(
        {
            "boto3": boto3.__version__,
            "botocore": botocore.__version__,
            "credentialSets": len(keys_used),
            "requests": rows,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
