"""Statistics: tips by category, ward, unit and week and the time they take; deliveries by channel
type and outcome; wanted notices and the surrenders per channel type.

Each figure is one table built here, shown three ways from the same rows: an HTML table
(readable without JavaScript), a chart (console-stats.js draws it with Chart.js from the
table's data-chart attribute) and a CSV download. Tips figures are the officer's scope: the
tips service counts only what they may read.
"""
import csv
import io
from datetime import date, datetime, time, timedelta

from flask import g, render_template, request
from flask_babel import gettext as _

from contracts.notify import SUMMARY_COUNTERS
from contracts.posts import OUTCOMES
from gateway.rpc import ServiceUnavailable
from gateway.web import VN_TZ
from gateway.web.console import bp, fan_out, page, render_error
from gateway.web.console import vocabulary as names

PRESETS = (("7", 7), ("30", 30), ("90", 90), ("365", 365), ("all", None))
DEFAULT_PRESET = "90"
# table key (also its CSV file name) -> the figures it is made from
TABLES = {
    "tin-bao-theo-linh-vuc": "tips", "tin-bao-theo-phuong-xa": "tips", "tin-bao-theo-don-vi": "tips",
    "tin-bao-theo-tuan": "tips", "thoi-gian-xu-ly-tin-bao": "tips",
    "luot-gui-theo-loai-kenh": "deliveries",
    "thong-bao-truy-na": "wanted", "dau-thu-theo-loai-kenh": "wanted",
}


# --- the period -----------------------------------------------------------------------------------

class Period:
    """Whole days in Ninh Bình's calendar, [first, last] both included; None: no bound."""

    def __init__(self, first=None, last=None, preset=None):
        self.first, self.last, self.preset = first, last, preset

    @classmethod
    def from_args(cls, args, today=None):
        """(period, problem): the period the query asks for, or the default one and what was wrong."""
        today = today or datetime.now(VN_TZ).date()
        if args.get("from") or args.get("to"):
            try:
                first = date.fromisoformat(args["from"]) if args.get("from") else None
                last = date.fromisoformat(args["to"]) if args.get("to") else None
            except ValueError:
                return cls.preset_of(DEFAULT_PRESET, today), _("Ngày không hợp lệ: chọn ngày theo lịch (năm-tháng-ngày).")
            if first and last and last < first:
                return cls.preset_of(DEFAULT_PRESET, today), _("Ngày kết thúc phải sau ngày bắt đầu.")
            return cls(first, last), None
        return cls.preset_of(args.get("days") if args.get("days") in dict(PRESETS) else DEFAULT_PRESET, today), None

    @classmethod
    def preset_of(cls, key, today):
        days = dict(PRESETS)[key]
        return cls(today - timedelta(days=days - 1) if days else None, today if days else None, key)

    def query(self):
        """{from, to} as the services take them: local midnights, `to` exclusive."""
        q = {}
        if self.first:
            q["from"] = datetime.combine(self.first, time(), VN_TZ).isoformat()
        if self.last:
            q["to"] = datetime.combine(self.last + timedelta(days=1), time(), VN_TZ).isoformat()
        return q

    def args(self):
        """The query string that asks for this period again (links, the CSV downloads)."""
        if self.preset:
            return {"days": self.preset}
        return {k: v.isoformat() for k, v in (("from", self.first), ("to", self.last)) if v}

    def file_part(self):
        return f"{self.first.isoformat() if self.first else 'dau'}_{self.last.isoformat() if self.last else 'nay'}"


# --- the tables -------------------------------------------------------------------------------------

def table(key, title, columns, rows, chart, note=None):
    """columns: [(label, kind)] with kind text | count | seconds | week; rows: lists of raw
    values (numbers stay numbers, for the chart and the CSV)."""
    return {"key": key, "title": title, "columns": columns, "rows": rows, "chart": chart, "note": note}


def chart(kind, labels, datasets, **options):
    """What console-stats.js draws: {type, labels, datasets: [{label, data}], options}."""
    return {"type": kind, "labels": [str(label) for label in labels],
            "datasets": [{"label": str(label), "data": data} for label, data in datasets], **options}


def by_count(counts):
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def tip_tables(tips, units_by_id, wards):
    count = _("Số tin báo")
    categories = [(names.name_of(names.TIP_CATEGORIES, code), n) for code, n in by_count(tips["by_category"])]
    ward_rows = [(wards.get(code, code) if code != "none" else _("Chưa xác định"), n)
                 for code, n in by_count(tips["by_ward"])]
    unit_rows = [(units_by_id.get(code, {}).get("name", code) if code != "none" else _("Chưa chuyển đơn vị"), n)
                 for code, n in by_count(tips["by_unit"])]
    weeks = list(tips.get("by_week", {}).items())
    stages = [(_("Phân loại"), tips["time_to_triage_seconds"]),
              (_("Tiếp nhận xử lý"), tips["time_to_acknowledge_seconds"]),
              (_("Xử lý xong"), tips["time_to_resolve_seconds"])]
    return [
        table("tin-bao-theo-linh-vuc", _("Tin báo theo lĩnh vực"), [(_("Lĩnh vực"), "text"), (count, "count")],
              [list(r) for r in categories],
              chart("bar", [r[0] for r in categories], [(count, [r[1] for r in categories])], horizontal=True)),
        table("tin-bao-theo-phuong-xa", _("Tin báo theo phường, xã"), [(_("Phường, xã"), "text"), (count, "count")],
              [list(r) for r in ward_rows],
              chart("bar", [r[0] for r in ward_rows], [(count, [r[1] for r in ward_rows])], horizontal=True)),
        table("tin-bao-theo-don-vi", _("Tin báo theo đơn vị xử lý"), [(_("Đơn vị"), "text"), (count, "count")],
              [list(r) for r in unit_rows],
              chart("bar", [r[0] for r in unit_rows], [(count, [r[1] for r in unit_rows])], horizontal=True)),
        table("tin-bao-theo-tuan", _("Tin báo theo tuần"), [(_("Tuần (từ thứ Hai)"), "week"), (count, "count")],
              [list(r) for r in weeks],
              chart("line", [date.fromisoformat(w).strftime("%d/%m") for w, _n in weeks], [(count, [n for _w, n in weeks])])),
        table("thoi-gian-xu-ly-tin-bao", _("Thời gian xử lý tin báo"),
              [(_("Khâu"), "text"), (_("Số tin"), "count"), (_("Trung vị (p50)"), "seconds"),
               (_("9/10 số tin trong vòng (p90)"), "seconds")],
              [[label, figures["count"], figures["p50"], figures["p90"]] for label, figures in stages],
              time_chart(stages),
              note=_("Tính từ lúc nhận tin đến khi tin được phân loại, được cán bộ tiếp nhận xử lý (mốc dừng "
                     "thời hạn SLA) và được xử lý xong; chỉ tính các tin đã qua khâu đó.")),
    ]


def time_chart(stages):
    """p50 and p90 of each stage in the unit that suits the longest (seconds to days); on a
    logarithmic axis when they differ a hundredfold (minutes to triage, days to resolve)."""
    values = [v for _label, f in stages for v in (f["p50"], f["p90"]) if v]
    top = max(values, default=0)
    unit, size = next((unit, size) for limit, unit, size in (
        (120, _("giây"), 1), (7200, _("phút"), 60), (172800, _("giờ"), 3600), (float("inf"), _("ngày"), 86400))
        if top < limit)
    scaled = lambda v: None if v is None else round(v / size, 2)  # noqa: E731
    return chart("bar", [label for label, _f in stages],
                 [(_("Trung vị (p50), %(unit)s", unit=unit), [scaled(f["p50"]) for _l, f in stages]),
                  (_("p90, %(unit)s", unit=unit), [scaled(f["p90"]) for _l, f in stages])],
                 log=bool(values) and top / min(values) > 100)


def delivery_tables(deliveries):
    outcomes = [o for o in SUMMARY_COUNTERS
                if o in ("sent", "failed") or any(t["by_outcome"].get(o) for t in deliveries["by_channel_type"].values())]
    types = list(deliveries["by_channel_type"].items())
    rows = [[names.name_of(names.CHANNEL_TYPES, code), t["total"]] + [t["by_outcome"].get(o, 0) for o in outcomes]
            for code, t in types]
    labels = [row[0] for row in rows]
    if rows:
        rows.append([_("Tổng cộng"), deliveries["total"]] + [deliveries["by_outcome"].get(o, 0) for o in outcomes])
    return [table("luot-gui-theo-loai-kenh", _("Lượt gửi bài theo loại kênh và kết quả"),
                  [(_("Loại kênh"), "text"), (_("Tổng"), "count")]
                  + [(names.name_of(names.DELIVERY_OUTCOMES, o), "count") for o in outcomes],
                  rows,
                  chart("bar", labels, [(names.name_of(names.DELIVERY_OUTCOMES, o), [row[2 + i] for row in rows[:-1]])
                                        for i, o in enumerate(outcomes)], horizontal=True, stacked=True),
                  note=_("Mỗi lượt gửi là một bài × một kênh, của các bài đăng trong khoảng thời gian đã chọn "
                         "(%(n)s lần đăng).", n=deliveries.get("publications", 0)))]


def wanted_tables(wanted):
    resolved = wanted["resolved"]
    open_notices = max(0, wanted["notices"] - sum(resolved.values()))
    outcome_rows = [[names.name_of(names.WANTED_OUTCOMES, o), resolved.get(o, 0)] for o in OUTCOMES]
    outcome_rows.append([_("Chưa có kết quả"), open_notices])
    surrenders = [[names.name_of(names.CHANNEL_TYPES, code), n] for code, n in by_count(wanted["surrenders_by_channel_type"])]
    every_time = _("Toàn bộ thời gian (không theo khoảng đã chọn).")
    return [
        table("thong-bao-truy-na", _("Thông báo truy nã, kêu gọi đầu thú: kết quả (%(n)s thông báo đã đăng)",
                                     n=wanted["notices"]),
              [(_("Kết quả"), "text"), (_("Số thông báo"), "count")], outcome_rows,
              chart("doughnut", [r[0] for r in outcome_rows], [(_("Số thông báo"), [r[1] for r in outcome_rows])]),
              note=every_time),
        table("dau-thu-theo-loai-kenh", _("Người ra đầu thú theo kênh họ biết tin"),
              [(_("Loại kênh"), "text"), (_("Số người ra đầu thú"), "count")], surrenders,
              chart("bar", [r[0] for r in surrenders], [(_("Số người ra đầu thú"), [r[1] for r in surrenders])],
                    horizontal=True),
              note=every_time),
    ]


def figures(period, wanted_sources):
    """The figures each wanted source needs, in one round trip: {source: answer or None}."""
    calls = {"units": ("groups", "list_all_units", ()), "reference": ("groups", "get_reference", ())}
    if "tips" in wanted_sources and g.officer.may("tips.read"):
        calls["tips"] = ("tips", "tip_stats", (g.officer, period.query()))
    if "deliveries" in wanted_sources:
        calls["deliveries"] = ("notify", "delivery_stats", (period.query(),))
    if "wanted" in wanted_sources:
        calls["wanted"] = ("posts", "wanted_stats", ())
    return fan_out(calls)


def build_tables(found):
    """{source: [tables] or None (not loaded)} for the sources that were asked for."""
    units_by_id = {u["id"]: u for u in found.get("units") or []}
    wards = {w["id"]: w["name"] for w in (found.get("reference") or {}).get("wards", [])}
    built = {}
    if "tips" in found:
        built["tips"] = tip_tables(found["tips"], units_by_id, wards) if found["tips"] else None
    if "deliveries" in found:
        built["deliveries"] = delivery_tables(found["deliveries"]) if found["deliveries"] else None
    if "wanted" in found:
        built["wanted"] = wanted_tables(found["wanted"]) if found["wanted"] else None
    return built


# --- the page and the downloads -------------------------------------------------------------------

def duration_text(seconds):
    """A duration as an officer reads it: 45 giây, 12 phút, 3 giờ 5 phút, 2 ngày 4 giờ."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return _("%(n)s giây", n=seconds)
    minutes = seconds // 60
    if minutes < 60:
        return _("%(n)s phút", n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)s giờ %(m)s phút", h=hours, m=minutes) if minutes else _("%(h)s giờ", h=hours)
    days, hours = divmod(hours, 24)
    return _("%(d)s ngày %(h)s giờ", d=days, h=hours) if hours else _("%(d)s ngày", d=days)


@bp.route("/stats")
@page()
def stats():
    period, problem = Period.from_args(request.args)
    sources = ("tips", "deliveries", "wanted")
    found = figures(period, sources)
    built = build_tables(found)
    scope_unit = None  # whose tips these are, unless every unit's
    if g.officer.may("tips.read") and not g.officer.may("tips.read_all") and g.officer.get("unit_id"):
        unit = next((u for u in found.get("units") or [] if u["id"] == g.officer["unit_id"]), None)
        scope_unit = unit["name"] if unit else g.officer["unit_id"]
    return render_template("console/stats.html", period=period, problem=problem, built=built, presets=PRESETS,
                           scope_unit=scope_unit, duration_text=duration_text, names=names)


@bp.route("/stats/export/<key>.csv")
@page()
def stats_export(key):
    source = TABLES.get(key)
    if source is None:
        return render_error(404, _("Không có bảng số liệu này."))
    period, _problem = Period.from_args(request.args)
    if source == "tips":
        g.officer.require("tips.read")
    built = build_tables(figures(period, (source,)))
    tables = built.get(source)
    if tables is None:
        raise ServiceUnavailable(source)
    found = next(t for t in tables if t["key"] == key)
    return csv_download(csv_text(found), f"binh-yen_{key}_{period.file_part()}.csv")


def csv_text(found):
    """The table as CSV: a header row, then the rows; seconds and weeks as plain values."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{label} ({_('giây')})" if kind == "seconds" else label for label, kind in found["columns"]])
    for row in found["rows"]:
        writer.writerow(["" if value is None else round(value) if kind == "seconds" else value
                         for value, (_label, kind) in zip(row, found["columns"])])
    return out.getvalue()


def csv_download(text, filename):
    """A CSV file to save: UTF-8 with a BOM, which tells Excel the encoding (without it
    Vietnamese letters come out garbled); `filename` is ASCII."""
    return ("\ufeff" + text).encode("utf-8"), 200, {
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{filename}"'}
