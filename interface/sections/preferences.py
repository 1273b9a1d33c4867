"""Section 5, User Preference Timeline: who votes, how, how fast, how consistently; every vote searchable."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from interface.components import analysis as A
from interface.components import cards, charts
from interface.components.context import DashboardContext

TITLE = "User Preference Timeline"
RUN_VOTES = "python interface/voting_ui.py"
TEXT_COLS = ("prompt", "response_a", "response_b")
MAX_ROWS = 200


def votes_with_texts(votes: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Votes (newest first) with prompt and both responses: inline texts win, else the pair's."""
    cols = ["ts", "annotator", "annotator_type", "choice", "seconds", "rationale", "pair_id", "id"]
    v = votes[[c for c in cols if c in votes] + [c for c in TEXT_COLS if c in votes]].copy()
    if not pairs.empty:
        p = pairs.drop_duplicates("id", keep="last").set_index("id")[list(TEXT_COLS)]
        joined = v[["pair_id"]].join(p, on="pair_id")
        for c in TEXT_COLS:
            v[c] = v[c].fillna(joined[c]) if c in v else joined[c]
    for c in TEXT_COLS:
        if c not in v:
            v[c] = None
    return v.sort_values("ts", ascending=False, kind="stable")


def search_votes(table: pd.DataFrame, query: str, choice: str = "any") -> pd.DataFrame:
    """Rows whose prompt, responses, annotator or rationale contain ``query`` (case-insensitive)."""
    out = table
    if choice != "any":
        out = out[out["choice"] == choice]
    q = (query or "").strip()
    if q:
        mask = pd.Series(False, index=out.index)
        for c in (*TEXT_COLS, "annotator", "rationale"):
            if c in out:
                mask |= out[c].astype("string").str.contains(q, case=False, regex=False, na=False)
        out = out[mask]
    return out


def render(ctx: DashboardContext) -> None:
    st.header(TITLE)
    cards.load_problems(ctx.votes_loaded, ctx.pairs_loaded)
    if ctx.all_votes.empty:
        cards.nothing_yet("no votes in data/votes.jsonl", RUN_VOTES)
        return
    votes = ctx.votes
    if votes.empty:
        st.info("No votes match the sidebar's dates and annotators.")
        return
    humans = votes[votes["annotator_type"] == "human"]
    shares = votes["choice"].value_counts(normalize=True)
    cards.metric_row([
        ("Votes", f"{len(votes):,}"), ("Annotators", f"{votes['annotator'].nunique():,}"),
        ("Human votes", f"{len(humans):,}"),
        ("A / B / tie", " / ".join(cards.fmt_pct(shares.get(c, 0.0), 0) for c in ("A", "B", "tie"))),
        ("Median seconds per vote", cards.fmt_num(humans["seconds"].median() if "seconds" in humans and len(humans) else None, 1)),
    ])

    st.subheader("Votes over time by annotator")
    freq = A.trend_freq(votes["ts"])
    cards.chart(charts.bars(A.votes_over_time(votes, freq=freq), "period", "votes", color="annotator", x_type="T",
                            y_title=f"votes per {'day' if freq == 'D' else 'week'}"), key="pref_timeline")

    left, right = st.columns(2)
    with left:
        st.subheader("A / B / tie shares")
        sh = A.choice_shares(votes)
        long = sh.drop(columns="votes").reset_index().melt(id_vars="annotator", var_name="choice", value_name="share")
        cards.chart(charts.bars(long, "annotator", "share", color="choice", stack="normalize", y_title="share",
                                sort=list(sh.index)), key="pref_shares")
        cards.table(sh.reset_index().round(3), key="pref_shares_table")
    with right:
        st.subheader("Time per vote")
        tpv = A.time_per_vote(votes)
        if tpv.empty:
            st.info("No vote records how long it took (the `seconds` field).")
        else:
            cards.chart(charts.bars(tpv, "annotator", "median_s", y_title="median seconds", sort="-y"), key="pref_time")
            cards.table(tpv.round(2), key="pref_time_table")

    st.subheader("Self-consistency (gold repeats)")
    sc = A.self_consistency(ctx.votes)
    if sc.empty:
        st.info("No gold repeats yet: the voting UI re-asks a few pairs (`repeat_of`) to measure this.")
    else:
        cards.table(sc.round(3), key="pref_consistency")
        st.caption("Share of re-asked pairs answered the same way as the first time.")

    _vote_table(ctx, votes)


def _vote_table(ctx: DashboardContext, votes: pd.DataFrame) -> None:
    st.subheader("Search the votes")
    c1, c2 = st.columns([3, 1])
    query = c1.text_input("Search prompt, responses, annotator or rationale", key="vote_search")
    choice = c2.selectbox("Choice", ["any", "A", "B", "tie", "both_bad"], key="vote_choice")
    table = votes_with_texts(votes, ctx.pairs_loaded.data)
    hits = search_votes(table, query, choice)
    st.caption(f"{len(hits):,} matching vote(s){f'; showing the newest {MAX_ROWS}' if len(hits) > MAX_ROWS else ''}.")
    if hits.empty:
        return
    show = hits.head(MAX_ROWS).copy()
    show["ts"] = show["ts"].dt.strftime("%Y-%m-%d %H:%M")
    st.dataframe(show, hide_index=True, key="vote_table",
                 column_config={c: st.column_config.TextColumn(c, width="medium") for c in TEXT_COLS})
    first = show.iloc[0]
    st.markdown("**Newest matching vote, full text**")
    st.text(f"{first['ts']} · {first['annotator']} ({first['annotator_type']}) chose {first['choice']}")
    for label, col in (("Prompt", "prompt"), ("Response A", "response_a"), ("Response B", "response_b"),
                       ("Rationale", "rationale")):
        val = first.get(col)
        if isinstance(val, str) and val:
            st.caption(label)
            st.text(val)
