import pytest

from tests.stack.mocked import Evaluation, evaluate


@pytest.fixture
def dev() -> Evaluation:
    """The program under the dev stack's config, with fresh mocks for each test."""
    return evaluate()
