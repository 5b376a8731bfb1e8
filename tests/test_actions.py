"""The action log over consecutive nights (SCORECARD_AS_OF moving a month at a time) on a real
DuckDB file: actions open, persist without duplicates, resolve when the trigger clears and close
when an owner records a decision; a re-run of the same night changes nothing."""

from datetime import UTC, date, datetime

import pytest

from settings.commentary import Comment, commentary_table
from transforms.scoring import score_metrics

JAN, FEB, MAR, APR = (date(2026, m, 1) for m in (1, 2, 3, 4))
# change_failure_rate, lower is better (T 15, G 10): 12 amber, 17.5 red, 17 red, 8 green.
# sla_attainment, higher is better (T 90, G 95): 92, 93, 91 amber three months running, 96 green.
VALUES = [
    ("change_failure_rate", JAN, 12.0),
    ("change_failure_rate", FEB, 17.5),
    ("change_failure_rate", MAR, 17.0),
    ("change_failure_rate", APR, 8.0),
    ("sla_attainment", JAN, 92.0),
    ("sla_attainment", FEB, 93.0),
    ("sla_attainment", MAR, 91.0),
    ("sla_attainment", APR, 96.0),
]
CFR = {"threshold": 15, "target": 10, "owner": "Change Manager", "objective": "Change safely"}
SLA = {"threshold": 90, "target": 95, "owner": "SLM", "objective": "Keep promises"}
SCORECARDS = {
    "default": {"change_failure_rate": CFR, "sla_attainment": SLA},
    "service_desk": {"sla_attainment": {**SLA, "owner": "Service Desk Lead"}},
}
# The owner's decision for March on the IT-wide scorecard only.
DECISION = Comment(
    "default",
    "sla_attainment",
    MAR,
    "Two vendors missed response times",
    "Vendor review booked; accept amber until Q3",
    "SLM",
    2,
)


def night(con, month: int, comments=(), scorecards=SCORECARDS):
    """One nightly scoring at 02:00 on the 1st of `month` (every earlier month is complete)."""
    # Only the months before the night exist yet, as on the real night.
    con.execute("DELETE FROM kpi.metric_values")
    con.executemany(
        "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
        "dimension_value, value, unit, period_complete) VALUES (?, 'month', ?, 'all', 'all', ?, "
        "'%', true)",
        [row for row in VALUES if row[1].month < month],
    )
    score_metrics(
        con,
        {},
        as_of=datetime(2026, month, 1, 2, tzinfo=UTC),
        scorecards=scorecards,
        commentary=commentary_table(list(comments)),
    )
    return {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT action_id, status, opened_period, due_date, resolved_period, note, owner "
            "FROM scorecard.actions ORDER BY action_id"
        ).fetchall()
    }


RED = "default:change_failure_rate:all:red:2026-02-01"
AMBER = "default:sla_attainment:all:amber_two_periods:2026-02-01"
PILOT_AMBER = "service_desk:sla_attainment:all:amber_two_periods:2026-02-01"


@pytest.fixture
def con(warehouse):
    with warehouse.connect() as connection:
        yield connection


def test_actions_open_persist_resolve_and_close_over_four_nights(con):
    # 1 February: only January is complete: one amber period, no trigger yet.
    assert night(con, 2) == {}

    # 1 March: February red (17.5 > 15) and amber twice (92, 93) on both scorecards.
    # Due: the period ends 1 March, plus 14 days for a monthly metric = 15 March.
    march = night(con, 3)
    assert march == {
        RED: ("open", FEB, date(2026, 3, 15), None, None, "Change Manager"),
        AMBER: ("open", FEB, date(2026, 3, 15), None, None, "SLM"),
        PILOT_AMBER: ("open", FEB, date(2026, 3, 15), None, None, "Service Desk Lead"),
    }
    # Re-running the same night changes nothing, timestamps included.
    before = con.execute("SELECT * FROM scorecard.actions ORDER BY action_id").fetchall()
    night(con, 3)
    assert con.execute("SELECT * FROM scorecard.actions ORDER BY action_id").fetchall() == before

    # 1 April: March still red (17) and amber (91): the same three actions, no duplicates; the
    # decision for March closes the IT-wide amber action only, with the decision as its note.
    april = night(con, 4, [DECISION])
    assert set(april) == {RED, AMBER, PILOT_AMBER}
    assert april[RED][0] == "open"
    assert april[AMBER][0] == "closed"
    assert april[AMBER][4] == "Vendor review booked; accept amber until Q3"
    assert april[PILOT_AMBER][0] == "open"

    # 1 May: April green on both (8 < 10, 96 > 95): the open actions resolve in April; the
    # closed one stays closed.
    may = night(con, 5, [DECISION])
    assert may[RED][:4] == ("resolved", FEB, date(2026, 3, 15), APR)
    assert may[PILOT_AMBER][0] == "resolved"
    assert may[AMBER][0] == "closed"
    assert len(may) == 3


def test_a_rerun_of_an_earlier_night_leaves_the_actions_opened_after_it_open(con):
    # 1 April: February and March red, amber twice: three open actions opened in February.
    april = night(con, 4)
    assert {action: row[0] for action, row in april.items()} == dict.fromkeys(
        [RED, AMBER, PILOT_AMBER], "open"
    )
    # A backfill of 1 February (SCORECARD_AS_OF in the past) scores only January: it cannot see
    # February's triggers, so it must not resolve them (in January, before they opened).
    assert night(con, 2) == april
    # The next real night finds them as they were.
    assert night(con, 4) == april


def test_a_red_period_without_commentary_is_flagged(con):
    night(con, 3)
    flagged = con.execute(
        "SELECT scorecard_id, metric_id, period_start, missing_commentary, commentary "
        "FROM scorecard.metric_status WHERE status = 'red'"
    ).fetchall()
    # February's 17.5 is the only red period by 1 March.
    assert flagged == [("default", "change_failure_rate", FEB, True, None)]
    assert con.execute(
        "SELECT scorecard_id, record_key, field FROM scorecard.data_quality "
        "WHERE source = 'scorecard' AND table_name = 'metric_status'"
    ).fetchall() == [("default", "default/change_failure_rate/2026-02-01", "commentary")]
    explained = Comment("default", "change_failure_rate", FEB, "One bad release", None, None, 2)
    night(con, 3, [explained])
    assert con.execute(
        "SELECT commentary, missing_commentary FROM scorecard.metric_status "
        "WHERE metric_id = 'change_failure_rate' AND period_start = DATE '2026-02-01'"
    ).fetchall() == [("One bad release", False)]
    assert con.execute(
        "SELECT count(*) FROM scorecard.data_quality WHERE table_name = 'metric_status'"
    ).fetchall() == [(0,)]


def test_each_scorecard_has_its_own_rows(con):
    night(con, 5)
    rows = dict(
        con.execute(
            "SELECT scorecard_id, count(*) FROM scorecard.metric_status GROUP BY 1"
        ).fetchall()
    )
    # IT-wide: 2 metrics x 4 months; the pilot: 1 metric x 4 months.
    assert rows == {"default": 8, "service_desk": 4}
    objectives = con.execute(
        "SELECT scorecard_id, objective FROM scorecard.objective_scores "
        "WHERE period_start = DATE '2026-04-01' ORDER BY ALL"
    ).fetchall()
    assert objectives == [
        ("default", "Change safely"),
        ("default", "Keep promises"),
        ("service_desk", "Keep promises"),
    ]


def test_a_first_run_logs_past_triggers_that_cleared_as_resolved(con):
    # A warehouse scored for the first time on 1 May sees the whole history: February-March red
    # and amber-twice runs that cleared in April are logged as resolved in April, never open.
    may = night(con, 5)
    assert may == {
        RED: ("resolved", FEB, date(2026, 3, 15), APR, None, "Change Manager"),
        AMBER: ("resolved", FEB, date(2026, 3, 15), APR, None, "SLM"),
        PILOT_AMBER: ("resolved", FEB, date(2026, 3, 15), APR, None, "Service Desk Lead"),
    }
    # Re-running changes nothing.
    before = con.execute("SELECT * FROM scorecard.actions ORDER BY action_id").fetchall()
    night(con, 5)
    assert con.execute("SELECT * FROM scorecard.actions ORDER BY action_id").fetchall() == before


def test_a_decision_closes_only_actions_that_stood_at_its_period(con):
    # The March decision was taken while the amber run (February-March) stood: it closes it even
    # though the run has cleared since. A decision for April, once the red run had cleared in
    # April, leaves that resolved action as it is.
    april_decision = Comment(
        "default", "change_failure_rate", APR, None, "Keep the release checklist", None, 3
    )
    may = night(con, 5, [DECISION, april_decision])
    assert may[AMBER][0] == "closed"
    assert may[AMBER][4] == "Vendor review booked; accept amber until Q3"
    assert may[RED][:4] == ("resolved", FEB, date(2026, 3, 15), APR)
    assert may[RED][4] is None


def nightly_actions(con, rows, trigger: str) -> list[list[tuple]]:
    """Score change_failure_rate one month more each night (its (period, value) rows, on the 1st
    of the next month) and log (opened_period, status, resolved_period) of `trigger` each night."""
    logged = []
    for month, (period, value) in enumerate(rows, start=2):
        con.execute(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, unit, period_complete) "
            "VALUES ('change_failure_rate', 'month', ?, 'all', 'all', ?, '%', true)",
            [period, value],
        )
        score_metrics(
            con, {"change_failure_rate": CFR}, as_of=datetime(2026, month, 1, 2, tzinfo=UTC)
        )
        logged.append(
            con.execute(
                "SELECT opened_period, status, resolved_period FROM scorecard.actions "
                "WHERE trigger = ?",
                [trigger],
            ).fetchall()
        )
    return logged


def test_a_period_without_a_value_neither_clears_nor_extends_a_red_action(con):
    """change_failure_rate: 12 in January (amber), 20 in February (red), no value in March
    (grey), 8 in April (green): the action opened for February stays open through March and is
    resolved in April, the first period that shows the red gone."""
    rows = [(JAN, 12.0), (FEB, 20.0), (MAR, None), (APR, 8.0)]
    logged = nightly_actions(con, rows, "red")
    assert logged == [
        [],
        [(FEB, "open", None)],
        [(FEB, "open", None)],  # March is grey: nothing shows the red gone
        [(FEB, "resolved", APR)],
    ]


@pytest.mark.parametrize(
    ("march", "status", "resolved"), [(17.0, "open", None), (8.0, "resolved", MAR)]
)
def test_a_resolved_red_that_late_data_brings_back_reopens_or_resolves_later(
    con, march, status, resolved
):
    """change_failure_rate 20 in January (red), 8 in February: the red action is resolved in
    February. Late records then restate February to 17 (red again): with March red (17) too, the
    run reaches the latest period and the action is open again; with March green (8), it is
    resolved in March, the first period without the red, and its run is one (no new action)."""
    nightly_actions(con, [(JAN, 20.0), (FEB, 8.0)], "red")
    con.execute("UPDATE kpi.metric_values SET value = 17 WHERE period_start = ?", [FEB])
    con.execute(
        "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
        "dimension_value, value, unit, period_complete) "
        "VALUES ('change_failure_rate', 'month', ?, 'all', 'all', ?, '%', true)",
        [MAR, march],
    )
    score_metrics(con, {"change_failure_rate": CFR}, as_of=datetime(2026, 4, 1, 2, tzinfo=UTC))
    logged = con.execute(
        "SELECT opened_period, status, resolved_period FROM scorecard.actions WHERE trigger = 'red'"
    ).fetchall()
    assert logged == [(JAN, status, resolved)]


@pytest.mark.parametrize(
    ("restated", "january", "february"),
    [
        # Late records make January red too: the run now begins in January.
        ((JAN, 19.0), "red", "red"),
        # Records deleted at the source make February amber: the run now begins in March.
        ((FEB, 13.0), "amber", "amber"),
    ],
    ids=["run_now_begins_earlier", "run_now_begins_later"],
)
def test_a_red_run_whose_first_period_late_data_moves_keeps_its_one_open_action(
    con, restated, january, february
):
    """change_failure_rate 12 in January (amber), then 20 in February and 18 in March (red): on
    1 April one red action is open, opened for February. Late data moves the run's first period
    (restated, scored on 1 May with April red at 16): the red never cleared, so the same action
    stays open, the only red action, not resolved in a period that was red beside a new one."""
    nightly_actions(con, [(JAN, 12.0), (FEB, 20.0), (MAR, 18.0)], "red")
    before = con.execute("SELECT action_id, due_date FROM scorecard.actions").fetchall()
    period, value = restated
    con.execute("UPDATE kpi.metric_values SET value = ? WHERE period_start = ?", [value, period])
    con.execute(
        "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
        "dimension_value, value, unit, period_complete) "
        "VALUES ('change_failure_rate', 'month', ?, 'all', 'all', 16, '%', true)",
        [APR],
    )
    score_metrics(con, {"change_failure_rate": CFR}, as_of=datetime(2026, 5, 1, 2, tzinfo=UTC))
    statuses = con.execute(
        "SELECT period_start, status FROM scorecard.metric_status ORDER BY period_start"
    ).fetchall()
    logged = con.execute(
        "SELECT action_id, status, opened_period, due_date, resolved_period "
        "FROM scorecard.actions WHERE trigger = 'red'"
    ).fetchall()
    assert statuses == [(JAN, january), (FEB, february), (MAR, "red"), (APR, "red")]
    assert before == [("default:change_failure_rate:all:red:2026-02-01", date(2026, 3, 15))]
    assert logged == [
        ("default:change_failure_rate:all:red:2026-02-01", "open", FEB, date(2026, 3, 15), None)
    ]


def test_a_red_whose_period_since_has_no_value_stays_on_the_page_with_its_open_action(
    warehouse, tmp_path
):
    """sla_attainment 96 in January, 80 in February (red: an action due March 15), then too few
    records for a value in March (grey): the action stays open, so the page lists the metric
    under "Reds and escalations" with the action's owner and due date."""
    from reports import write_reports

    with warehouse.connect() as con:
        con.executemany(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, n, reason, unit, period_complete) "
            "VALUES ('sla_attainment', 'month', ?, 'all', 'all', ?, ?, ?, '%', true)",
            [
                (JAN, 96.0, 10, None),
                (FEB, 80.0, 10, None),
                (MAR, None, 2, "too little data: n=2 below the minimum of 5"),
            ],
        )
        score_metrics(con, {"sla_attainment": SLA}, as_of=datetime(2026, 4, 1, 2, tzinfo=UTC))
    md = write_reports(warehouse.working_path, tmp_path / "r", "IT", "2026-04-01", {}).markdown
    attention = md.split("## Reds and escalations")[1].split("##")[0]
    assert "| sla_attainment | GREY, red action open | SLM | 2026-03-15 |" in attention


def test_amber_on_both_sides_of_a_period_without_a_value_is_amber_twice_running(con):
    """change_failure_rate: 12 in January and 13 in February (amber twice: an action opens), no
    value in March (grey), 14 in April: April is amber again after the last value, so the action
    stays open, April escalates, and its trend compares with February (13 -> 14, worse)."""
    rows = [(JAN, 12.0), (FEB, 13.0), (MAR, None), (APR, 14.0)]
    logged = nightly_actions(con, rows, "amber_two_periods")
    april = con.execute(
        "SELECT status, escalate, trend FROM scorecard.metric_status WHERE period_start = ?",
        [APR],
    ).fetchall()
    assert logged == [
        [],
        [(FEB, "open", None)],
        [(FEB, "open", None)],  # March is grey: nothing shows the amber gone
        [(FEB, "open", None)],  # April is amber again
    ]
    assert april == [("amber", True, "deteriorating")]


@pytest.mark.parametrize(
    "taken_off",
    [
        {**CFR, "enabled": False},
        # Retired from April: its last scored period, March, was still red.
        {**CFR, "retired": APR},
        None,  # removed from the scorecard.yaml
    ],
    ids=["disabled", "retired", "removed"],
)
def test_an_open_action_of_a_metric_taken_off_the_scorecard_is_resolved(con, taken_off):
    """change_failure_rate is red in February and March: its action is open on 1 April. Taken
    off the IT-wide scorecard before 1 May, it no longer has a period that could clear the
    action, which would stay on the agenda for good: it is resolved in the scorecard's latest
    period, April."""
    assert night(con, 4)[RED][0] == "open"
    default = {"sla_attainment": SLA}
    if taken_off is not None:
        default["change_failure_rate"] = taken_off
    may = night(con, 5, scorecards={**SCORECARDS, "default": default})
    assert may[RED][0] == "resolved"
    assert may[RED][3] == APR
    # The other scorecards' and metrics' actions are untouched: sla_attainment is green in April.
    assert may[PILOT_AMBER][:4] == ("resolved", FEB, date(2026, 3, 15), APR)


def test_the_open_actions_of_a_scorecard_removed_from_the_config_are_resolved(con):
    """The pilot's sla_attainment is amber in January and February: its action is open on
    1 March. With the pilot scorecard removed before 1 April, nothing could ever clear it: it is
    resolved in the latest month the remaining scorecards scored, March."""
    assert night(con, 3)[PILOT_AMBER][0] == "open"
    april = night(con, 4, scorecards={"default": SCORECARDS["default"]})
    assert april[PILOT_AMBER][0] == "resolved"
    assert april[PILOT_AMBER][3] == MAR
    # The IT-wide scorecard's own amber action still stands: March was amber too.
    assert april[AMBER][0] == "open"


def test_every_escalation_trigger_escalates_its_period_and_lists_it_on_the_page(
    warehouse, tmp_path
):
    """sla_attainment is green (96) January to July, then its source stops: August to November
    are stale, over two cadences from October. csat is green throughout, 90 and 91 in turn for
    ten months, then 82 in November: still green, but below the process limits (mean 90.5,
    moving range 1: 90.5 - 2.66 = 87.84), a deteriorating signal. Neither is red nor amber, yet
    both opened an action, so both periods escalate and the page lists them."""
    from reports import write_reports

    with warehouse.connect() as con:
        con.executemany(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, unit, period_complete) VALUES (?, 'month', ?, 'all', 'all', ?, "
            "'%', true)",
            [("sla_attainment", date(2026, m, 1), 96.0) for m in range(1, 8)]
            + [("csat", date(2026, m, 1), 90.0 + m % 2) for m in range(1, 11)]
            + [("csat", date(2026, 11, 1), 82.0)],
        )
        score_metrics(
            con,
            {"sla_attainment": SLA, "csat": {"threshold": 70, "target": 80, "owner": "Desk Lead"}},
            as_of=datetime(2026, 12, 1, 2, tzinfo=UTC),
        )
        november = con.execute(
            "SELECT metric_id, status, escalate FROM scorecard.metric_status "
            "WHERE period_start = DATE '2026-11-01' ORDER BY metric_id"
        ).fetchall()
        assert november == [("csat", "green", True), ("sla_attainment", "stale", True)]
        escalated = con.execute(
            "SELECT metric_id, min(period_start) FROM scorecard.metric_status WHERE escalate "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        # sla_attainment's third stale month (October) is the first over two cadences.
        assert escalated == [("csat", date(2026, 11, 1)), ("sla_attainment", date(2026, 10, 1))]
        triggers = con.execute(
            "SELECT metric_id, trigger FROM scorecard.actions WHERE status = 'open' ORDER BY ALL"
        ).fetchall()
        assert triggers == [
            ("csat", "deteriorating_signal"),
            ("sla_attainment", "stale_over_two_cadences"),
        ]
    md = write_reports(
        warehouse.working_path,
        tmp_path / "reports",
        "IT",
        "2026-12-01",
        {},
    ).markdown
    attention = md.split("## Reds and escalations")[1].split("##")[0]
    assert "| csat | GREEN ESCALATED | Desk Lead |" in attention
    assert "| sla_attainment | STALE ESCALATED | SLM |" in attention
