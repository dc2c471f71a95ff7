#!/usr/bin/env python3
# The offline checks of deploy/ (tests/e2e/deploy.sh runs them): the
# manifests parse, and what the DaemonSet runs fits what the image holds,
# what the ConfigMap gives and what tests/e2e/capabilities.sh measured.
#   deploy_check.py TREE LWFP CGROUP   (CGROUP: one of the caller's, for
#   the ConfigMap's load statement; prints TAP lines, exits 1 on a failure)
import os
import re
import subprocess
import sys

import yaml

TREE, LWFP, CGROUP = sys.argv[1:4]
K8S = os.path.join(TREE, "deploy/kubernetes")
failed = 0


def check(name, ok, why=""):
    global failed
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        failed = 1
        if why:
            print("#   " + str(why))


def load(name):
    with open(os.path.join(K8S, name)) as f:
        return list(yaml.safe_load_all(f))


def run(*argv, stdin=None):
    return subprocess.run(argv, input=stdin, capture_output=True, text=True)


kust = load("kustomization.yaml")[0]
docs = {}
for res in kust["resources"]:
    for d in load(res):
        docs[d["kind"]] = d
check("the manifests parse, and kustomization names them all",
      sorted(kust["resources"]) == sorted(
          f for f in os.listdir(K8S) if f.endswith(".yaml")
          and f != "kustomization.yaml"))
ds, cm = docs["DaemonSet"], docs["ConfigMap"]
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
mounts = {m["name"]: m for m in c["volumeMounts"]}
vols = {v["name"]: v for v in spec["volumes"]}
env = {e["name"]: e["value"] for e in c.get("env", [])}

check("the DaemonSet's selector matches its pods",
      ds["spec"]["selector"]["matchLabels"].items()
      <= ds["spec"]["template"]["metadata"]["labels"].items())
check("both in one namespace",
      ds["metadata"]["namespace"] == cm["metadata"]["namespace"])

# the image: the tag the Containerfile says to build, of this version
with open(os.path.join(TREE, "deploy/container/Containerfile")) as f:
    cf = f.read()
with open(os.path.join(TREE, "Makefile")) as f:
    version = re.search(r"^VERSION := (\S+)", f.read(), re.M).group(1)
check("the image is the Containerfile's tag, of this version",
      c["image"] == "lwfp:" + version and "-t lwfp:%s " % version in cf,
      c["image"])
check("the Containerfile builds on debian:bookworm, in a build stage",
      re.search(r"^FROM debian:bookworm AS build$", cf, re.M) is not None
      and "COPY --from=build" in cf)
entry = re.search(r'^ENTRYPOINT \["([^"]+)"\]', cf, re.M).group(1)
check("the command is the binary the image installs",
      c["command"] == [entry] and "/out" + entry in cf)
# every library lwfp links is in the runtime stage (this host is Debian)
runtime = cf.split("COPY --from=build")[0].split("FROM debian:bookworm-slim")[1]
need = set()
for line in run("ldd", LWFP).stdout.splitlines():
    m = re.search(r"=> (\S+)", line)
    if not m:
        continue
    real = os.path.realpath(m.group(1))
    # merged /usr: dpkg may know the file by its /lib path
    for path in (real, re.sub(r"^/usr/lib/", "/lib/", real)):
        pkg = run("dpkg", "-S", path).stdout.split(":")[0]
        if pkg:
            break
    need.add(pkg or "(no package: %s)" % real)
# in bookworm-slim already (apt needs them), and what only the sanitized
# build (make check) links
need -= {"libc6", "libgcc-s1", "libstdc++6"}
need = {p for p in need if not re.match(r"lib(a|ub|t|l)san\d", p)}
check("the runtime stage installs every library lwfp links",
      need and all(re.search(r"\b%s\b" % p, runtime) for p in need), need)

# the arguments: options lwfp knows, the file where the ConfigMap is
args = c["args"]
check("it runs apply --watch, upgrading in place, unloading on exit",
      args[:2] == ["apply", "--watch"] and "--upgrade" in args
      and "--unload-on-exit" in args)
r = run(LWFP, *args[:-1], "--help")
check("lwfp takes every option it is given", r.returncode == 0, r.stderr)
item = vols["config"]["configMap"]["items"][0]
check("the file is the ConfigMap's key, where its volume is mounted",
      vols["config"]["configMap"]["name"] == cm["metadata"]["name"]
      and item["key"] in cm["data"]
      and args[-1] == mounts["config"]["mountPath"] + "/" + item["path"])
check("the ConfigMap is not mounted by subPath (which never updates)",
      "subPath" not in mounts["config"])
text = cm["data"][item["key"]]
r = run(LWFP, "apply", "--check", "-",
        stdin=re.sub(r"--cgroup /kubepods\.slice\b", "--cgroup " + CGROUP,
                     text))
check("the ConfigMap's file passes apply --check (its cgroup made ours)",
      r.returncode == 0 and "--cgroup /kubepods.slice" in text, r.stderr)
ready = args[args.index("--ready-file") + 1]
check("the ready file is where a writable volume is, and the probe's",
      os.path.dirname(ready) == mounts["run"]["mountPath"]
      and not mounts["run"].get("readOnly")
      and c["readinessProbe"]["exec"]["command"][-1] == ready)
upd = ds["spec"]["updateStrategy"]["rollingUpdate"]
check("an update starts the next pod before stopping the old one",
      upd["maxSurge"] == 1 and upd["maxUnavailable"] == 0)

# privileges: what capabilities.sh measured, and no more
sc = c["securityContext"]
check("capabilities: all dropped, BPF, NET_ADMIN and PERFMON added",
      sc["capabilities"]["drop"] == ["ALL"]
      and sorted(sc["capabilities"]["add"]) == ["BPF", "NET_ADMIN", "PERFMON"])
check("not privileged, no escalation, read-only root, no hostPID",
      sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False
      and sc["readOnlyRootFilesystem"] is True
      and spec.get("hostPID") is False)
check("the node's network namespace (services without --netns)",
      spec["hostNetwork"] is True)

# mounts: the node's bpffs under the pin directory, its cgroup2 root where
# lwfp looks first, the namespaces --netns names
pin = env["LWFP_PIN_DIR"]
check("the pin directory is on the node's bpffs, not under /sys/fs/bpf "
      "(lwfp would mount a bpffs of the pod's own there)",
      vols["bpffs"]["hostPath"]["path"] == "/sys/fs/bpf"
      and os.path.dirname(pin) == mounts["bpffs"]["mountPath"]
      and not mounts["bpffs"]["mountPath"].startswith("/sys/"))
check("the node's cgroup2 root on /sys/fs/cgroup, read-only",
      vols["cgroup"]["hostPath"]["path"] == "/sys/fs/cgroup"
      and mounts["cgroup"]["mountPath"] == "/sys/fs/cgroup"
      and mounts["cgroup"]["readOnly"] is True)
check("the node's /run/netns, seeing namespaces made after it started",
      vols["netns"]["hostPath"]["path"] == "/run/netns"
      and mounts["netns"]["mountPropagation"] == "HostToContainer")
# the broker: the same image and engine, the maps read-only, its socket on
# the node's /run/lwfp-offload for service pods to mount
b = {x["name"]: x for x in spec["containers"]}.get("broker")
bmounts = {m["name"]: m for m in b["volumeMounts"]} if b else {}
check("the broker runs `lwfp broker` of the same image on the same engine",
      b is not None and b["image"] == c["image"]
      and b["command"] == c["command"] and b["args"][0] == "broker"
      and {e["name"]: e["value"] for e in b["env"]}.get("LWFP_PIN_DIR") == pin)
check("the broker: all dropped, BPF and NET_ADMIN added, not privileged",
      b is not None
      and b["securityContext"]["capabilities"]["drop"] == ["ALL"]
      and sorted(b["securityContext"]["capabilities"]["add"])
      == ["BPF", "NET_ADMIN"]
      and b["securityContext"]["privileged"] is False
      and b["securityContext"]["allowPrivilegeEscalation"] is False)
check("the broker listens on the node's /run/lwfp-offload",
      b is not None and bmounts["offload"]["mountPath"] == "/run/lwfp"
      and vols["offload"]["hostPath"]["path"] == "/run/lwfp-offload"
      and bmounts["bpffs"]["mountPath"] == mounts["bpffs"]["mountPath"])
check("every mount has its volume and every volume its mount",
      set(mounts) | set(bmounts) == set(vols))
sys.exit(failed)
