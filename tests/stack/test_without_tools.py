"""The program evaluates with no minikube, docker, kubectl or pulumi on PATH, no Docker daemon and no cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.stack.mocked import INGRESS_IP, ROOT

CHILD = """
import json, shutil
from tests.stack.mocked import evaluate
missing = [tool for tool in ("docker", "minikube", "kubectl", "pulumi") if shutil.which(tool) is None]
evaluation = evaluate()
print(json.dumps({"missing": missing, "exports": evaluation.exports,
                  "kinds": sorted(r.kind for r in evaluation.kubernetes_objects())}))
"""


def test_the_program_evaluates_without_minikube_docker_or_a_cluster(tmp_path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    environment = {
        "PATH": str(empty_bin),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DOCKER_HOST": "tcp://127.0.0.1:9",  # nothing listens there
        "KUBECONFIG": str(tmp_path / "no-such-kubeconfig"),
    }
    if "SYSTEMROOT" in os.environ:
        environment["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    child = subprocess.run([sys.executable, "-c", CHILD], cwd=tmp_path, env=environment, capture_output=True,
                           text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["missing"] == ["docker", "minikube", "kubectl", "pulumi"]
    assert len(result["kinds"]) == 10
    assert result["exports"]["curlCommand"] == f'curl -H "Host: example.org" http://{INGRESS_IP}/'
    assert result["exports"]["webApiImage"].startswith("web-api:v1-")
