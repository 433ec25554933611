"""Plotly figures for the dashboard, built from the library's DataFrames."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from compliance.ui.state import ALLOW_COLOUR, DENY_COLOUR, NEUTRAL_COLOUR

# Legends sit below the plot, so a phone's 390 pixels go to the data, not to a legend beside it.
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0, "title": None}

KIND_COLOURS = {"DPA": "#0072B2", "BAA": "#CC79A7", "certification": "#009E73", "review": "#E69F00"}


def _today_line(fig: go.Figure, today: date, vertical: bool = True) -> None:
    stamp = pd.Timestamp(today)
    if vertical:
        fig.add_shape(type="line", x0=stamp, x1=stamp, y0=0, y1=1, yref="paper", line={"color": "black", "dash": "dot"})
        fig.add_annotation(x=stamp, y=1, yref="paper", text="today", showarrow=False, yanchor="bottom")


SYMBOLS = ["circle", "diamond", "square", "x", "cross", "pentagon"]


def expiry_timeline(events: pd.DataFrame, today: date) -> go.Figure:
    """Agreement, certification and review dates per provider, with today marked (one trace per kind of
    date; drawn with graph objects, which take a fifth of plotly express's time for the same figure)."""
    frame = events.assign(date=pd.to_datetime(events["date"]))
    fig = go.Figure()
    for i, kind in enumerate(dict.fromkeys(frame["kind"])):
        group = frame[frame["kind"] == kind]
        fig.add_scatter(x=group["date"], y=group["provider"], mode="markers", name=str(kind), legendgroup=str(kind),
                        marker={"color": KIND_COLOURS.get(str(kind)), "symbol": SYMBOLS[i % len(SYMBOLS)], "size": 12},
                        customdata=group[["what"]].to_numpy(),
                        hovertemplate="%{y}<br>%{x|%Y-%m-%d}<br>%{customdata[0]}<extra>" + str(kind) + "</extra>")
    fig.update_layout(height=max(260, 32 * frame["provider"].nunique() + 120), xaxis_title=None, yaxis_title=None,
                      legend=LEGEND_BELOW, margin={"t": 30, "l": 0, "r": 0})
    fig.update_yaxes(automargin=True, categoryorder="array", categoryarray=list(dict.fromkeys(frame["provider"])),
                     autorange="reversed")
    _today_line(fig, today)
    return fig


def decision_heatmap(allowed: pd.DataFrame, hover: pd.DataFrame, title: str,
                     highlight: list[str] | None = None) -> go.Figure:
    """Allow (blue) / deny (orange) grid with the deciding rule in the hover text.

    Every row and column is labelled (no automatic thinning); the categories in `highlight`
    are boxed and their labels bold.
    """
    columns, rows = [str(c) for c in allowed.columns], [str(r) for r in allowed.index]
    marked = set(highlight or [])
    fig = go.Figure(go.Heatmap(
        z=allowed.astype(int).values, x=columns, y=rows, text=hover.values,
        hovertemplate="%{y} / %{x}<br>%{text}<extra></extra>", zmin=0, zmax=1, showscale=False,
        colorscale=[[0, DENY_COLOUR], [0.5, DENY_COLOUR], [0.5, ALLOW_COLOUR], [1, ALLOW_COLOUR]], xgap=1, ygap=1,
    ))
    for i, column in enumerate(columns):
        if column in marked:
            fig.add_shape(type="rect", x0=i - 0.5, x1=i + 0.5, y0=-0.5, y1=len(rows) - 0.5,
                          line={"color": "black", "width": 2})
    fig.update_layout(
        title=title, height=max(320, 18 * len(rows) + 60 + 7 * max((len(c) for c in columns), default=0)),
        margin={"t": 40, "l": 10, "r": 10},
        xaxis={"tickangle": -90, "tickmode": "array", "tickvals": columns, "automargin": True,
               "ticktext": [f"<b>{c}</b>" if c in marked else c for c in columns], "tickfont": {"size": 10}},
        yaxis={"tickmode": "array", "tickvals": rows, "ticktext": rows, "automargin": True, "tickfont": {"size": 10},
               "autorange": "reversed"})
    return fig


def margin_bars(segments: pd.DataFrame) -> go.Figure:
    """Revenue split into LLM cost, other cost of goods and gross profit, per segment."""
    fig = go.Figure()
    for column, name, colour in (("llm_cost", "LLM cost", DENY_COLOUR), ("other_cogs", "other cost of goods",
                                                                          NEUTRAL_COLOUR),
                                 ("gross_profit", "gross profit", ALLOW_COLOUR)):
        fig.add_bar(x=segments["segment"], y=segments[column], name=name, marker_color=colour)
    fig.update_layout(barmode="stack", yaxis_tickprefix="$", yaxis_title="per month", height=360, margin={"t": 30},
                      legend=LEGEND_BELOW)
    return fig


SCENARIO_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def projection_lines(frame: pd.DataFrame, value: str, title: str) -> go.Figure:
    """One panel per segment with its own y axis (B2B stays readable beside consumer), a line per scenario
    in the same colour in every panel (graph objects: a fraction of plotly express's time for this figure)."""
    ratio = "margin" in value or "share" in value
    segments = list(dict.fromkeys(frame["segment"]))
    scenarios = list(dict.fromkeys(frame["scenario"]))
    fig = make_subplots(rows=max(len(segments), 1), cols=1, shared_xaxes=True, subplot_titles=segments,
                        vertical_spacing=min(0.08, 0.9 / (len(segments) - 1)) if len(segments) > 1 else 0)
    for row, segment in enumerate(segments, start=1):
        mine = frame[frame["segment"] == segment]
        for i, scenario in enumerate(scenarios):
            line = mine[mine["scenario"] == scenario]
            fig.add_scatter(x=line["date"], y=line[value], mode="lines", name=str(scenario), legendgroup=str(scenario),
                            showlegend=row == 1, line={"color": SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]},
                            hovertemplate=f"{segment}<br>%{{x}}<br>{title}: %{{y}}<extra>{scenario}</extra>",
                            row=row, col=1)
    fig.update_yaxes(title_text="share of revenue" if "share" in value else (
        "gross margin" if ratio else "USD per month"), tickformat=".1%" if ratio else ",.0f",
        tickprefix="" if ratio else "$")
    fig.update_xaxes(title_text="month", row=max(len(segments), 1), col=1)
    fig.update_layout(title=title, height=max(320, 260 * len(segments)), margin={"t": 50},
                      legend={"orientation": "h", "y": -0.12})
    return fig


def compliance_cost_bars(frame: pd.DataFrame) -> go.Figure:
    """Per feature (by name): spend now, cheapest allowed and cheapest overall, per month."""
    labels = frame["name"]
    fig = go.Figure()
    fig.add_bar(x=labels, y=frame["current_monthly"], name="spend now (declared routes)", marker_color=NEUTRAL_COLOUR)
    fig.add_bar(x=labels, y=frame["cheapest_allowed_monthly"], name="cheapest allowed routes",
                marker_color=ALLOW_COLOUR)
    fig.add_bar(x=labels, y=frame["cheapest_monthly"], name="cheapest routes overall (same tier)",
                marker_color=DENY_COLOUR)
    fig.update_layout(barmode="group", yaxis_tickprefix="$", yaxis_tickformat=",.0f", yaxis_title="USD per month",
                      xaxis_title="feature", height=420, margin={"t": 30}, xaxis={"tickangle": -30},
                      legend={"orientation": "h", "y": 1.1})
    return fig


def tornado(frame: pd.DataFrame, segment: str, *, margin: bool = False) -> go.Figure:
    """How monthly LLM cost (or gross margin, in points) moves when each input moves by -20% / +20%."""
    rows = frame[frame["segment"] == segment].copy()
    low, high = ("margin_change_low", "margin_change_high") if margin else ("cost_change_low", "cost_change_high")
    rows["span"] = (rows[high] - rows[low]).abs()
    rows = rows.sort_values("span")
    labels = rows["label"] if "label" in rows else rows["driver"]
    fig = go.Figure()
    fig.add_bar(y=labels, x=rows[low], orientation="h", name="input -20%", marker_color=ALLOW_COLOUR)
    fig.add_bar(y=labels, x=rows[high], orientation="h", name="input +20%", marker_color=DENY_COLOUR)
    axis = {"xaxis_tickformat": "+.1%", "xaxis_title": "change in gross margin (points)"} if margin else {
        "xaxis_tickprefix": "$", "xaxis_tickformat": ",.0f", "xaxis_title": "change in monthly LLM cost (USD)"}
    fig.update_layout(barmode="overlay", height=360, title=f"Sensitivity: {segment}", margin={"t": 40},
                      legend={"orientation": "h", "y": -0.25}, **axis)
    return fig


def actual_vs_modelled(frame: pd.DataFrame) -> go.Figure:
    """Observed and modelled cost per feature and month, side by side (log scale: they differ by orders)."""
    long = frame.melt(id_vars=["feature", "month"], value_vars=["observed_cost", "modelled_cost"],
                      var_name="cost", value_name="usd").dropna(subset=["usd"])
    long["cost"] = long["cost"].map({"observed_cost": "observed", "modelled_cost": "modelled"})
    long["feature_month"] = long["feature"] + " " + long["month"]
    fig = px.bar(long, x="usd", y="feature_month", color="cost", barmode="group", orientation="h", log_x=True,
                 color_discrete_map={"observed": "#0072B2", "modelled": "#E69F00"},
                 height=max(260, 36 * long["feature_month"].nunique() + 120))
    fig.update_layout(legend=LEGEND_BELOW, xaxis_title="USD per month (log scale)", yaxis_title=None)
    return fig


def model_options_scatter(frame: pd.DataFrame, metric: str, need: float | None) -> go.Figure:
    """Cost per month vs eval score per (route, model): allowed options in colour, denied ones grey
    with their rules in the hover text, the recommendation ringed, the quality need as a line."""
    fig = go.Figure()
    scored = frame.dropna(subset=["score", "monthly_cost"])
    for allowed, name, colour in ((True, "allowed", ALLOW_COLOUR), (False, "denied by policy", NEUTRAL_COLOUR)):
        part = scored[scored["allowed"] == allowed]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=part["monthly_cost"], y=part["score"], mode="markers", name=name,
            marker={"size": 12, "color": colour, "opacity": 1.0 if allowed else 0.5},
            text=part["option"], customdata=part[["policy"]].to_numpy(),
            hovertemplate="%{text}<br>$%{x:,.0f}/month<br>" + metric + " %{y:.2f}<br>%{customdata[0]}<extra></extra>"))
    chosen = scored[scored["recommended"]]
    if not chosen.empty:
        fig.add_trace(go.Scatter(x=chosen["monthly_cost"], y=chosen["score"], mode="markers", name="recommended",
                                 marker={"size": 22, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "black"}},
                                 hoverinfo="skip"))
    if need is not None:
        fig.add_hline(y=need, line={"color": DENY_COLOUR, "dash": "dash"}, annotation_text=f"needed: {need:.2f}")
    fig.update_layout(xaxis_title="cost per month (USD)", yaxis_title=f"eval: {metric}", legend=LEGEND_BELOW,
                      margin={"t": 30, "l": 0, "r": 0}, height=420)
    return fig
