"""Plotly figures for the dashboard, built from the library's DataFrames."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from compliance.ui.state import ALLOW_COLOUR, DENY_COLOUR, NEUTRAL_COLOUR

# Legends sit below the plot, so a phone's 390 pixels go to the data, not to a legend beside it.
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0, "title": None}

KIND_COLOURS = {"DPA": "#0072B2", "BAA": "#CC79A7", "certification": "#009E73", "review": "#E69F00"}


def _today_line(fig: go.Figure, today: date, vertical: bool = True) -> None:
    stamp = pd.Timestamp(today)
    if vertical:
        fig.add_shape(type="line", x0=stamp, x1=stamp, y0=0, y1=1, yref="paper", line={"color": "black", "dash": "dot"})
        fig.add_annotation(x=stamp, y=1, yref="paper", text="today", showarrow=False, yanchor="bottom")


def expiry_timeline(events: pd.DataFrame, today: date) -> go.Figure:
    """Agreement, certification and review dates per provider, with today marked."""
    frame = events.assign(date=pd.to_datetime(events["date"]))
    fig = px.scatter(frame, x="date", y="provider", color="kind", symbol="kind", hover_data={"what": True},
                     color_discrete_map=KIND_COLOURS, height=max(260, 32 * frame["provider"].nunique() + 120))
    fig.update_traces(marker={"size": 12})
    _today_line(fig, today)
    fig.update_layout(xaxis_title=None, yaxis_title=None, legend=LEGEND_BELOW, margin={"t": 30, "l": 0, "r": 0})
    fig.update_yaxes(automargin=True)
    return fig


def decision_heatmap(allowed: pd.DataFrame, hover: pd.DataFrame, title: str) -> go.Figure:
    """Allow (blue) / deny (orange) grid with the deciding rule in the hover text."""
    fig = go.Figure(go.Heatmap(
        z=allowed.astype(int).values, x=list(allowed.columns), y=list(allowed.index), text=hover.values,
        hovertemplate="%{y} / %{x}<br>%{text}<extra></extra>", zmin=0, zmax=1, showscale=False,
        colorscale=[[0, DENY_COLOUR], [0.5, DENY_COLOUR], [0.5, ALLOW_COLOUR], [1, ALLOW_COLOUR]], xgap=1, ygap=1,
    ))
    fig.update_layout(title=title, height=max(300, 18 * len(allowed.index) + 160), margin={"t": 40},
                      xaxis={"tickangle": -45})
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


def projection_lines(frame: pd.DataFrame, value: str, title: str) -> go.Figure:
    fig = px.line(frame, x="date", y=value, color="scenario", line_dash="segment", height=360)
    fig.update_layout(title=title, yaxis_tickformat=".0%" if "margin" in value or "share" in value else None,
                      yaxis_tickprefix="" if "margin" in value or "share" in value else "$", margin={"t": 40},
                      legend=LEGEND_BELOW)
    return fig


def compliance_cost_bars(frame: pd.DataFrame) -> go.Figure:
    labels = frame["feature"] + " #" + frame["flow"].astype(str)
    fig = go.Figure()
    fig.add_bar(x=labels, y=frame["current_monthly"], name="current route", marker_color=NEUTRAL_COLOUR)
    fig.add_bar(x=labels, y=frame["cheapest_allowed_monthly"], name="cheapest allowed route",
                marker_color=ALLOW_COLOUR)
    fig.add_bar(x=labels, y=frame["cheapest_monthly"], name="cheapest route (same tier)", marker_color=DENY_COLOUR)
    fig.update_layout(barmode="group", yaxis_tickprefix="$", yaxis_title="per month", height=380, margin={"t": 30},
                      xaxis={"tickangle": -30}, legend={**LEGEND_BELOW, "y": -0.35})
    return fig


def tornado(frame: pd.DataFrame, segment: str) -> go.Figure:
    """How monthly LLM cost moves when each driver moves by -20% / +20%."""
    rows = frame[frame["segment"] == segment].copy()
    rows["span"] = (rows["cost_change_high"] - rows["cost_change_low"]).abs()
    rows = rows.sort_values("span")
    fig = go.Figure()
    fig.add_bar(y=rows["driver"], x=rows["cost_change_low"], orientation="h", name="-20%", marker_color=ALLOW_COLOUR)
    fig.add_bar(y=rows["driver"], x=rows["cost_change_high"], orientation="h", name="+20%", marker_color=DENY_COLOUR)
    fig.update_layout(barmode="overlay", xaxis_tickprefix="$", xaxis_title="change in monthly LLM cost",
                      height=320, title=f"Sensitivity: {segment}", margin={"t": 40}, legend=LEGEND_BELOW)
    return fig
