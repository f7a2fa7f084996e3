"""`make history` (python -m ops.history) against the stand-in `pulumi` replaying recorded history JSON."""

from __future__ import annotations

from pathlib import Path

from ops import stack_keys
from ops.history import render_table
from ops.revisions import parse_history
from tests.ops.fakes import RECORDED_HISTORY, REPO, run_python_module


def table_rows(stdout: str) -> dict[str, list[str]]:
    """Data rows of the printed table keyed by revision; cells split on the column gaps."""
    rows = {}
    for line in stdout.splitlines():
        cells = [cell for cell in line.strip().split("  ") if cell.strip()]
        if cells and cells[0].strip().isdigit():
            rows[cells[0].strip()] = [cell.strip() for cell in cells]
    return rows


def test_history_prints_one_row_per_revision_oldest_first(fake):
    fake.install("pulumi").add_stack("dev", RECORDED_HISTORY)
    result = run_python_module(fake, "ops.history", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header[:4] == ["REV", "TIME", "(UTC)", "KIND"]
    rows = table_rows(result.stdout)
    assert list(rows) == ["1", "2", "3", "4", "5", "6"]
    assert rows["1"] == ["1", "2026-11-24 09:00:05", "update", "succeeded", "v1", "3", "v1", "5", "make deploy"]
    assert rows["3"] == ["3", "2026-11-24 11:30:12", "update", "succeeded", "v2", "3", "v1", "10",
                         "scale recipe-api"]
    assert rows["4"][2:5] == ["update", "failed", "v3"]
    assert rows["5"][2:4] == ["refresh", "succeeded"]


def test_history_asks_the_cli_for_every_update_in_the_project_dir_with_a_passphrase(fake):
    fake.install("pulumi").add_stack("dev", RECORDED_HISTORY)
    assert run_python_module(fake, "ops.history", "--stack", "dev").returncode == 0
    [call] = fake.calls("pulumi")
    assert call["argv"] == ["stack", "history", "--json", "--stack", "dev", "--page-size", "100", "--page", "1"]
    assert call["cwd"] == str(REPO)
    # Neither passphrase variable was set, so the empty passphrase is used (the Makefile's default too).
    assert call["env"]["PULUMI_CONFIG_PASSPHRASE"] == ""
    assert call["env"]["PULUMI_SKIP_UPDATE_CHECK"] == "true"


def test_a_passphrase_the_user_set_is_passed_through_untouched(fake):
    fake.install("pulumi").add_stack("dev", RECORDED_HISTORY)
    run_python_module(fake, "ops.history", "--stack", "dev", PULUMI_CONFIG_PASSPHRASE_FILE="/home/u/.pulumi/pp")
    run_python_module(fake, "ops.history", "--stack", "dev", PULUMI_CONFIG_PASSPHRASE="correct horse")
    first, second = fake.calls("pulumi")
    assert first["env"]["PULUMI_CONFIG_PASSPHRASE"] is None
    assert first["env"]["PULUMI_CONFIG_PASSPHRASE_FILE"] == "/home/u/.pulumi/pp"
    assert second["env"]["PULUMI_CONFIG_PASSPHRASE"] == "correct horse"


def test_history_pages_past_the_clis_default_of_ten(fake):
    template = RECORDED_HISTORY[-1]
    long_history = [dict(template, version=number, message=f"update {number}") for number in range(105, 0, -1)]
    fake.install("pulumi").add_stack("dev", long_history)
    result = run_python_module(fake, "ops.history", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert list(table_rows(result.stdout)) == [str(number) for number in range(1, 106)]
    assert [argv[-1] for argv in fake.argvs("pulumi")] == ["1", "2"]


def test_a_backend_that_ignores_paging_cannot_make_history_loop(fake):
    template = RECORDED_HISTORY[-1]
    long_history = [dict(template, version=number, message=f"update {number}") for number in range(105, 0, -1)]
    fake.install("pulumi").add_stack("dev", long_history)
    fake.state["pulumi"]["ignores_paging"] = True
    fake.save()
    result = run_python_module(fake, "ops.history", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert list(table_rows(result.stdout)) == [str(number) for number in range(1, 106)]
    assert [argv[-1] for argv in fake.argvs("pulumi")] == ["1", "2"]


def test_the_file_backends_unnumbered_updates_are_numbered_from_the_oldest(fake):
    # What the real CLI prints for a stack on a file:// backend (tests/cluster saw it): every `version` is 0, and
    # the newest update comes first. 105 of them, so the second page must not look like the first one again.
    template = RECORDED_HISTORY[-1]
    unnumbered = [dict(template, version=0, message=f"update {number}", startTime=f"2026-11-25T10:{number // 60:02d}:"
                       f"{number % 60:02d}.000Z") for number in range(105, 0, -1)]
    fake.install("pulumi").add_stack("dev", unnumbered)
    result = run_python_module(fake, "ops.history", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert list(rows) == [str(number) for number in range(1, 106)]
    assert rows["1"][-1] == "update 1" and rows["105"][-1] == "update 105"
    assert parse_history([dict(template, version=0, message="newer"), dict(template, version=0, message="older")]) \
        [0].message == "older"


def test_a_stack_without_updates_says_so(fake):
    fake.install("pulumi").add_stack("dev", [])
    result = run_python_module(fake, "ops.history", "--stack", "dev")
    assert result.returncode == 0
    assert "has no updates yet" in result.stdout and "make deploy STACK=dev" in result.stdout


def test_an_unknown_stack_fails_with_the_fix(fake):
    fake.install("pulumi")
    result = run_python_module(fake, "ops.history", "--stack", "nope")
    assert result.returncode == 1
    assert "no stack named 'nope'" in result.stderr
    assert "make deploy STACK=nope" in result.stderr


def test_a_missing_pulumi_cli_fails_with_the_install_command(fake):
    result = run_python_module(fake, "ops.history", "--stack", "dev")
    assert result.returncode == 1
    assert "not on PATH" in result.stderr and "curl -fsSL https://get.pulumi.com | sh" in result.stderr


def test_output_that_is_not_history_json_is_reported_not_misread(fake):
    fake.install("pulumi").add_stack("dev", [{"kind": "update", "config": {}}])
    result = run_python_module(fake, "ops.history", "--stack", "dev")
    assert result.returncode == 1
    assert "no integer 'version'" in result.stderr


def test_keys_a_revision_did_not_set_show_pulumi_yamls_default(tmp_path: Path):
    (tmp_path / "Pulumi.yaml").write_text(
        "name: recipes\nruntime: python\nconfig:\n"
        "  webApiVersion:\n    type: string\n    default: v1\n"
        "  recipes:webApiReplicas:\n    type: integer\n    default: 3\n"
    )
    defaults = stack_keys.project_defaults(tmp_path / "Pulumi.yaml")
    assert defaults == {"recipes:webApiVersion": "v1", "recipes:webApiReplicas": "3"}
    bare = [{"version": 1, "kind": "update", "startTime": "2026-11-24T09:00:05.000Z", "message": "",
             "config": {"recipes:recipeApiVersion": {"value": "v7", "secret": False},
                        "recipes:recipeApiReplicas": {"secret": True}},
             "result": "succeeded"}]
    table = render_table(parse_history(bare), defaults)
    assert table.splitlines()[1].split() == ["1", "2026-11-24", "09:00:05", "update", "succeeded", "v1", "3", "v7",
                                             "[secret]"]


def test_the_recorded_fixture_has_the_fields_of_the_real_format():
    # The shape of updateInfoJSON in pulumi/pkg/cmd/pulumi/stack/stack_history.go.
    allowed = {"version", "kind", "startTime", "message", "environment", "config", "result", "endTime",
               "resourceChanges"}
    for update in RECORDED_HISTORY:
        assert set(update) == allowed
        for entry in update["config"].values():
            assert set(entry) <= {"value", "objectValue", "secret"}
            assert ("value" in entry) != entry["secret"]  # secrets come without their value
    assert [update["version"] for update in RECORDED_HISTORY] == sorted(
        (update["version"] for update in RECORDED_HISTORY), reverse=True)
