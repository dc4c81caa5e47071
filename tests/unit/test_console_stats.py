"""The console's statistics tables, their period and their CSV files (no services: the figures
are what the stats RPCs answer)."""
import csv
import io
from datetime import date

import pytest

from gateway.app import create_app
from gateway.web.console import stats, vocabulary

TODAY = date(2026, 3, 12)
TIPS = {
    "total": 5, "by_status": {"assigned": 3, "in_progress": 2},
    "by_category": {"fraud": 1, "drugs": 3, "other": 1},
    "by_ward": {"ninh-khanh": 4, "none": 1}, "by_unit": {"ca-ninh-khanh": 4, "none": 1},
    "by_week": {"2026-02-23": 2, "2026-03-02": 0, "2026-03-09": 3},
    "time_to_triage_seconds": {"p50": 0.4, "p90": 1.2, "p99": 2.0, "count": 5},
    "time_to_acknowledge_seconds": {"p50": 1800.0, "p90": 5400.4, "p99": 6000.0, "count": 2},
    "time_to_resolve_seconds": {"p50": None, "p90": None, "p99": None, "count": 0},
}
UNITS = {"ca-ninh-khanh": {"id": "ca-ninh-khanh", "name": "Công an phường Ninh Khánh"}}
WARDS = {"ninh-khanh": "Ninh Khánh"}


@pytest.fixture(scope="module")
def app():
    return create_app({"JWT_SECRET": "s" * 40, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})


@pytest.fixture
def request_context(app):
    with app.test_request_context("/console/stats"):
        yield


def tables_by_key(tables):
    return {t["key"]: t for t in tables}


def test_a_period_is_whole_days_in_ninh_binh_time(request_context):
    period, problem = stats.Period.from_args({}, today=TODAY)
    assert problem is None and period.preset == stats.DEFAULT_PRESET
    assert period.query() == {"from": "2025-12-13T00:00:00+07:00", "to": "2026-03-13T00:00:00+07:00"}
    chosen, _ = stats.Period.from_args({"from": "2026-03-01", "to": "2026-03-01"}, today=TODAY)
    assert chosen.query() == {"from": "2026-03-01T00:00:00+07:00", "to": "2026-03-02T00:00:00+07:00"}
    assert chosen.args() == {"from": "2026-03-01", "to": "2026-03-01"}
    assert chosen.file_part() == "2026-03-01_2026-03-01"
    everything, _ = stats.Period.from_args({"days": "all"}, today=TODAY)
    assert everything.query() == {} and everything.file_part() == "dau_nay"


@pytest.mark.parametrize("args", [{"from": "2026-13-01"}, {"from": "2026-03-10", "to": "2026-03-01"}])
def test_a_bad_period_says_so_and_shows_the_default(request_context, args):
    period, problem = stats.Period.from_args(args, today=TODAY)
    assert problem and period.preset == stats.DEFAULT_PRESET


def test_tip_tables_name_the_codes_and_put_the_largest_first(request_context):
    tables = tables_by_key(stats.tip_tables(TIPS, UNITS, WARDS))
    categories = tables["tin-bao-theo-linh-vuc"]
    assert categories["rows"][0] == ["Ma túy", 3]
    assert categories["chart"]["labels"][0] == "Ma túy" and categories["chart"]["datasets"][0]["data"] == [3, 1, 1]
    assert tables["tin-bao-theo-phuong-xa"]["rows"] == [["Ninh Khánh", 4], ["Chưa xác định", 1]]
    assert tables["tin-bao-theo-don-vi"]["rows"][0] == ["Công an phường Ninh Khánh", 4]
    weeks = tables["tin-bao-theo-tuan"]
    assert weeks["rows"] == [["2026-02-23", 2], ["2026-03-02", 0], ["2026-03-09", 3]]
    assert weeks["chart"]["labels"] == ["23/02", "02/03", "09/03"]


def test_every_table_can_be_downloaded_by_its_key(request_context):
    wanted = {"notices": 2, "resolved": {"surrendered": 1}, "surrenders_by_channel_type": {"zalo_oa_group": 1},
              "per_notice": []}
    deliveries = {"total": 0, "by_outcome": {}, "by_channel_type": {}, "publications": 0}
    built = stats.build_tables({"units": [], "reference": {}, "tips": TIPS, "deliveries": deliveries, "wanted": wanted})
    for source, tables in built.items():
        assert {t["key"]: stats.TABLES.get(t["key"]) for t in tables} == {t["key"]: source for t in tables}
    assert built["deliveries"][0]["rows"] == []  # nothing published: no table, not a row of zeros
    outcomes = built["wanted"][0]["rows"]
    assert outcomes[0] == ["Ra đầu thú", 1] and outcomes[-1] == ["Chưa có kết quả", 1]


def test_times_chart_in_the_unit_that_suits_them(request_context):
    times = tables_by_key(stats.tip_tables(TIPS, UNITS, WARDS))["thoi-gian-xu-ly-tin-bao"]
    assert times["rows"][1] == ["Tiếp nhận xử lý", 2, 1800.0, 5400.4]
    spec = times["chart"]
    assert "phút" in spec["datasets"][0]["label"]  # the longest is 90 minutes
    assert spec["datasets"][0]["data"] == [0.01, 30.0, None] and spec["datasets"][1]["data"][1] == 90.01
    assert spec["log"] is True  # under a second next to an hour and a half


def test_delivery_table_keeps_outcomes_that_happened_and_a_total(request_context):
    deliveries = {"total": 7, "by_outcome": {"sent": 5, "failed": 1, "relay_open": 1, "pending": 0},
                  "publications": 2, "by_channel_type": {
                      "zalo_oa_group": {"total": 6, "by_outcome": {"sent": 5, "failed": 1, "relay_open": 0}},
                      "zalo_group_manual": {"total": 1, "by_outcome": {"relay_open": 1}}}}
    (table,) = stats.delivery_tables(deliveries)
    assert [label for label, _ in table["columns"]] == ["Loại kênh", "Tổng", "Đã gửi", "Lỗi, thất bại",
                                                         "Chờ cán bộ đăng tay"]
    assert table["rows"][-1] == ["Tổng cộng", 7, 5, 1, 1]
    assert table["chart"]["stacked"] and len(table["chart"]["datasets"]) == 3


def test_csv_opens_in_excel_with_vietnamese_intact(request_context):
    times = tables_by_key(stats.tip_tables(TIPS, UNITS, WARDS))["thoi-gian-xu-ly-tin-bao"]
    body, status, headers = stats.csv_download(stats.csv_text(times), "binh-yen_thoi-gian_2026-03-01_2026-03-12.csv")
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"] == 'attachment; filename="binh-yen_thoi-gian_2026-03-01_2026-03-12.csv"'
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["Khâu", "Số tin", "Trung vị (p50) (giây)", "9/10 số tin trong vòng (p90) (giây)"]
    assert rows[2] == ["Tiếp nhận xử lý", "2", "1800", "5400"]  # whole seconds
    assert rows[3] == ["Xử lý xong", "0", "", ""]


@pytest.mark.parametrize("seconds, text", [(None, "—"), (44.6, "45 giây"), (720, "12 phút"), (3 * 3600, "3 giờ"),
                                           (3 * 3600 + 300, "3 giờ 5 phút"), (2 * 86400 + 4 * 3600, "2 ngày 4 giờ")])
def test_durations_read_as_an_officer_says_them(request_context, seconds, text):
    assert stats.duration_text(seconds) == text


def test_service_field_messages_are_shown_in_vietnamese(request_context):
    assert vocabulary.field_message("Missing data for required field.") == "Bắt buộc phải có."
    assert vocabulary.field_message("Length must be between 10 and 200.") == "Từ 10 đến 200 ký tự."
    assert vocabulary.field_message("Must be one of: active, inactive.") == "Phải là một trong: active, inactive."
    assert vocabulary.field_message("phường/xã không tồn tại / unknown ward") == "phường/xã không tồn tại / unknown ward"
