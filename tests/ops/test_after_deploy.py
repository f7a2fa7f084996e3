"""What scripts/deploy prints after `pulumi up`, per platform and minikube driver."""

from __future__ import annotations

from ops.after_deploy import needs_tunnel, summary, through_tunnel

CURL = 'curl -H "Host: example.org" http://192.168.49.2/'


def test_linux_prints_the_curl_line_alone():
    assert summary(CURL, system="Linux", driver="docker") == f"Deployed. Try it:\n  {CURL}"


def test_macos_with_the_docker_driver_adds_the_tunnel_and_the_loopback_curl_line():
    text = summary(CURL, system="Darwin", driver="docker")
    assert "\n  minikube tunnel\n" in text
    assert text.endswith('\n  curl -H "Host: example.org" http://127.0.0.1/')


def test_only_drivers_without_a_routable_node_ip_need_the_tunnel():
    assert needs_tunnel("Darwin", "docker") and needs_tunnel("Darwin", "podman")
    assert not needs_tunnel("Darwin", "hyperkit") and not needs_tunnel("Darwin", "vfkit")
    assert not needs_tunnel("Linux", "docker") and not needs_tunnel("Darwin", None)


def test_the_tunnel_line_keeps_the_host_header_and_the_path():
    assert through_tunnel('curl -H "Host: a.example" http://10.1.2.3:8080/recipes') == \
        'curl -H "Host: a.example" http://127.0.0.1/recipes'
