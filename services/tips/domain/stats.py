"""Tip statistics: counts, tips per week, and times to triage, acknowledge and resolve."""
import math
from datetime import date, timedelta

from contracts.times import as_utc
from contracts.tip_intake import VN_TZ


def percentiles(values, ps=(50, 90, 99)):
    """{p: value} with linear interpolation between ranks; None for no data."""
    data = sorted(v for v in values if v is not None)
    out = {}
    for p in ps:
        if not 0 <= p <= 100:
            raise ValueError(f"percentile {p} outside 0..100")
        if not data:
            out[p] = None
            continue
        k = (len(data) - 1) * p / 100
        lo, hi = math.floor(k), math.ceil(k)
        out[p] = data[lo] + (data[hi] - data[lo]) * (k - lo)
    return out


def week_of(moment):
    """The Monday (Ninh Bình's calendar, UTC+7) of the week a moment falls in: "YYYY-MM-DD"."""
    day = as_utc(moment).astimezone(VN_TZ).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def counts_by_week(moments):
    """{Monday: n} in date order from the first week to the last, weeks with none included
    (a chart of tips per week shows the quiet weeks as zero, not as missing)."""
    counts = {}
    for moment in moments:
        if moment is not None:
            week = week_of(moment)
            counts[week] = counts.get(week, 0) + 1
    if not counts:
        return {}
    week, last = date.fromisoformat(min(counts)), date.fromisoformat(max(counts))
    filled = {}
    while week <= last:
        filled[week.isoformat()] = counts.get(week.isoformat(), 0)
        week += timedelta(days=7)
    return filled


STATS_FIELDS = ("status", "category", "ward", "unit_id", "received_at", "triaged_at", "acknowledged_at",
                "resolved_at")


def tip_stats(rows):
    """The statistics of tips (rows with STATS_FIELDS): counts by status, category, ward, unit and
    week; time to triage, acknowledge and resolve (p50/p90/p99, seconds)."""
    def counts(field):
        found = {}
        for row in rows:
            key = str(row[field]) if row.get(field) is not None else "none"
            found[key] = found.get(key, 0) + 1
        return found

    def seconds_to(field):
        return [(as_utc(row[field]) - as_utc(row["received_at"])).total_seconds()
                for row in rows if row.get("received_at") and row.get(field)]

    def summary(values):
        p = percentiles(values)
        return {"p50": p[50], "p90": p[90], "p99": p[99], "count": len(values)}

    return {"total": len(rows), "by_status": counts("status"), "by_category": counts("category"),
            "by_ward": counts("ward"), "by_unit": counts("unit_id"),
            "by_week": counts_by_week(row.get("received_at") for row in rows),
            "time_to_triage_seconds": summary(seconds_to("triaged_at")),
            "time_to_acknowledge_seconds": summary(seconds_to("acknowledged_at")),
            "time_to_resolve_seconds": summary(seconds_to("resolved_at"))}
