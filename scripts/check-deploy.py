"""Checks deploy/kubernetes.yaml against what it describes (tests/deploy.rs
runs it with the kubernetes-validate venv's python, see scripts/lib/tools.sh):

1. every object is valid against the Kubernetes schemas (kubernetes-validate,
   offline, --strict: unknown fields are errors);
2. the push-host container's arguments and the ConfigMap's hosting file are
   ones the binary accepts: `push-host ARGS --check` with the files the pod
   mounts replaced by local ones (the modules by the test guests);
3. the ports agree: the hosting file's `listen` port is the container's
   `http` port, `--admin-listen`'s the `admin` port, the probes use
   /healthz and /readyz on it, and the Service targets `http`.

Usage: check-deploy.py --host PUSH_HOST --guests DIR [--manifest FILE]
Exit status 0 when all hold; one line per failure otherwise.
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--guests", required=True)
    ap.add_argument("--manifest", default=str(ROOT / "deploy" / "kubernetes.yaml"))
    args = ap.parse_args()
    failures = []

    validate = subprocess.run(
        [str(Path(sys.executable).parent / "kubernetes-validate"), "--strict", args.manifest],
        capture_output=True, text=True)
    print(validate.stdout.strip())
    if validate.returncode != 0:
        failures.append(f"kubernetes-validate: {validate.stdout.strip()} {validate.stderr.strip()}")

    docs = [d for d in yaml.safe_load_all(Path(args.manifest).read_text()) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    config_map = by_kind["ConfigMap"][0]
    deployment = by_kind["Deployment"][0]
    service = by_kind["Service"][0]
    pod = deployment["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "push-host")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    hosting = config_map["data"]["hosting.toml"]

    with tempfile.TemporaryDirectory(prefix="push-host-deploy-") as tmp:
        tmp = Path(tmp)
        guests = Path(args.guests)
        # The modules the pod would find under /modules: the seed stands in.
        local = re.sub(r'module = "[^"]+"', f'module = "{guests / "http2_service.wasm"}"', hosting)
        (tmp / "hosting.toml").write_text(local)
        (tmp / "token").write_text("check-deploy-token\n")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        argv = []
        for arg in container["args"]:
            flag, _, value = arg.partition("=")
            if flag == "--config":
                value = str(tmp / "hosting.toml")
            elif flag == "--admin-token-file":
                if not any(value.startswith(m + "/") for m in mounts):
                    failures.append(f"{arg}: no volume is mounted there")
                value = str(tmp / "token")
            elif flag == "--cache-dir":
                value = str(tmp / "cache")
            argv.append(f"{flag}={value}" if value else flag)
        check = subprocess.run([args.host, *argv, "--check"], capture_output=True, text=True)
        print(f"push-host {' '.join(container['args'])} --check: {check.stdout.strip()} {check.stderr.strip()}")
        if check.returncode != 0:
            failures.append(f"push-host --check refused the pod's arguments or hosting file: {check.stderr.strip()}")

    listen = re.search(r'^listen = "[^"]*:(\d+)"', hosting, re.M)
    if not listen or int(listen.group(1)) != ports.get("http"):
        failures.append(f"the hosting file's listen port is not the container's http port {ports.get('http')}")
    admin = next((a.split("=", 1)[1] for a in container["args"] if a.startswith("--admin-listen=")), None)
    if not admin or int(admin.rsplit(":", 1)[1]) != ports.get("admin"):
        failures.append(f"--admin-listen {admin} is not on the container's admin port {ports.get('admin')}")
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") != "admin":
            failures.append(f"{probe} should GET {path} on the admin port: {get}")
    if not any(p.get("targetPort") == "http" for p in service["spec"]["ports"]):
        failures.append("the Service does not target the http port")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    drain = re.search(r"^shutdown_timeout_s = (\d+)", hosting, re.M)
    if drain and grace <= int(drain.group(1)):
        failures.append(f"terminationGracePeriodSeconds {grace} must exceed shutdown_timeout_s {drain.group(1)}")

    for f in failures:
        print(f"FAIL: {f}")
    if not failures:
        print("deploy/kubernetes.yaml: valid, and push-host accepts its arguments and hosting file")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
