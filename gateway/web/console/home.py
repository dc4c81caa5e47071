"""Home: "my work", the counts of what waits for this officer, each a link to the list."""
from flask import g, render_template

from gateway.web.console import bp, fan_out, page


@bp.route("/")
@page()
def home():
    calls = {"posts": ("posts", "work_counts", (g.officer,)),
             "relay": ("notify", "work_counts", (g.officer,))}
    if g.officer.may("tips.read"):
        calls["tips"] = ("tips", "work_counts", (g.officer,))
    counts = fan_out(calls)
    return render_template("console/home.html", counts=counts)
