"""Commentary files as owners save them: Excel's CSV encodings and YAML's empty values."""

from datetime import date

import pytest

from settings.commentary import commentary_problems, load_commentary
from settings.config import ConfigError, Settings

SETTINGS = Settings.model_validate({"metrics": {"csat": {"threshold": 75, "target": 85}}})


def refusal(file, settings=SETTINGS) -> str:
    """The message load_commentary refuses the file with."""
    with pytest.raises(ConfigError) as error:
        load_commentary(file, settings)
    return str(error.value)


def test_a_yaml_null_decision_is_no_decision(tmp_path):
    file = tmp_path / "commentary.yaml"
    file.write_text(
        "- metric: csat\n  period: 2026-03\n  commentary: Survey changed\n"
        "  decision: null\n  author: ~\n"
        "- metric: csat\n  period: 2026-04\n  commentary: Quoted\n  decision: 'null'\n"
    )
    first, second = load_commentary(file, SETTINGS)
    # A null decision must not close the metric's actions; a quoted 'null' is text.
    assert (first.commentary, first.decision, first.author) == ("Survey changed", None, None)
    assert second.decision == "null"


def test_a_yaml_entry_with_only_null_values_asks_for_commentary(tmp_path):
    file = tmp_path / "commentary.yaml"
    file.write_text("- {metric: csat, period: 2026-03, commentary: ~, decision: null}\n")
    assert refusal(file) == f"{file}:1: commentary: give a commentary, a decision or both"


def test_a_key_given_twice_in_one_yaml_entry_is_refused_rather_than_the_last_winning(tmp_path):
    file = tmp_path / "commentary.yaml"
    file.write_text(
        "- metric: csat\n  period: 2026-03\n  commentary: Survey changed\n"
        "  commentary: Two agents on leave\n"
    )
    assert refusal(file) == (
        f"{file}:4: commentary: given twice in one entry; keep one, as only the last would count"
    )


def test_a_list_given_as_a_yaml_value_is_refused_rather_than_published_as_its_repr(tmp_path):
    file = tmp_path / "commentary.yaml"
    file.write_text(
        "- metric: csat\n  period: 2026-03\n  commentary:\n"
        "    - Two failed database releases.\n    - One rollback.\n"
    )
    assert refusal(file).startswith(f"{file}:4: commentary: expected text, not a list")


def test_commentary_on_a_disabled_metric_is_refused_as_it_would_show_nowhere(tmp_path):
    file = tmp_path / "commentary.csv"
    file.write_text("metric,period,commentary\ncsat,2026-03,Survey changed\n")
    settings = Settings.model_validate(
        {"metrics": {"csat": {"threshold": 75, "target": 85, "enabled": False}}}
    )
    assert refusal(file, settings) == (
        f"{file}:2: metric: 'csat' is disabled (enabled: false), so it is not scored and its "
        "commentary would show nowhere"
    )


def test_a_csv_with_a_byte_order_mark_loads(tmp_path):
    file = tmp_path / "commentary.csv"
    file.write_bytes(b"\xef\xbb\xbfmetric,period,commentary\ncsat,2026-03,Survey changed\n")
    [comment] = load_commentary(file, SETTINGS)
    assert (comment.metric_id, comment.period_start, comment.commentary, comment.line) == (
        "csat",
        date(2026, 3, 1),
        "Survey changed",
        2,
    )


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_a_file_not_in_utf8_is_a_config_problem_naming_the_file(tmp_path, suffix):
    file = tmp_path / f"commentary{suffix}"
    # Windows-1252, as Excel saves "CSV (Comma delimited)": é is the single byte 0xE9.
    text = (
        "metric,period,commentary\ncsat,2026-03,Survey chang\xe9\n"
        if suffix == ".csv"
        else "- {metric: csat, period: 2026-03, commentary: Survey chang\xe9}\n"
    )
    file.write_bytes(text.encode("cp1252"))
    settings = SETTINGS.model_copy(update={"commentary": str(file)})
    byte = text.index("\xe9") + 1
    assert commentary_problems(settings) == [
        f"{file}: not UTF-8 text (byte {byte}): save it as UTF-8 (in Excel: Save As, CSV UTF-8)"
    ]
