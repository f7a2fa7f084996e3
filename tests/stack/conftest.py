import pytest

from tests.stack.mocked import Evaluation, evaluate


@pytest.fixture(autouse=True)
def docker_pointed_at_minikube(monkeypatch: pytest.MonkeyPatch) -> None:
    """As after `eval $(minikube docker-env)`: the program refuses to build for minikube into the host's daemon."""
    monkeypatch.setenv("DOCKER_HOST", "tcp://192.168.49.2:2376")


@pytest.fixture
def dev() -> Evaluation:
    """The program under the dev stack's config, with fresh mocks for each test."""
    return evaluate()
