"""``report.md`` and ``figure3.png`` of a study: the paper's Figure 3 and tests, then what it did not measure."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from listening_study import analysis, db
from sequence_env.atomic import atomic_write

MODEL_TITLES = {"note_rnn": "Note RNN", "q": "Q", "psi": "Ψ", "g": "G", "rl_only": "RL only", "kl_ppo": "KL-PPO",
                "rloo": "RLOO"}  # fmt: skip
SIMULATED_BANNER = (
    "> **Simulated listeners.** {n} of these listeners are simulated (they prefer the melody with the higher rMT). "
    "Their ratings show that the pipeline recovers a known order; they are no evidence of what people prefer."
)


def _title(model: str) -> str:
    return MODEL_TITLES.get(model, model)


def _p(value: float) -> str:
    if math.isnan(value):
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _span(values) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}–{high}"


def _figure(path: Path, models, wins, trials, sd, theta, low, high, simulated: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [_title(m) for m in models]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    x = np.arange(len(models))
    left.bar(x, wins, yerr=sd, capsize=6, color="#4c72b0")
    left.set_xticks(x, [f"{name}\n(of {n})" for name, n in zip(names, trials, strict=True)])
    left.set_ylabel("comparisons won")
    left.set_title("Figure 3: preferred melodies (± binomial s.d.)")
    right.errorbar(x, theta, yerr=[theta - low, high - theta], fmt="o", capsize=6, color="#c44e52")
    right.axhline(0, color="#999", lw=0.8)
    right.set_xticks(x, names)
    right.set_ylabel("log-strength θ")
    right.set_title("Bradley–Terry (95 % bootstrap over listeners)")
    if simulated:
        fig.suptitle(f"SIMULATED: {simulated} simulated listeners who prefer the higher rMT; not human preference",
                     color="#b00020", fontsize=11)  # fmt: skip
    fig.tight_layout()
    with atomic_write(path, ".png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def build_report(folder: str | Path, out: str | Path | None = None, reps: int = 1000, seed: int = 0) -> Path:
    """Analyse the study in ``folder``; write ``report.md`` and ``figure3.png`` into ``out`` (default: ``folder``).

    :raises ValueError: fewer than two model-pair ratings to analyse.
    """
    folder = Path(folder)
    out = Path(out) if out is not None else folder
    con = db.connect(folder)
    try:
        meta, rows, people = db.read_meta(con), db.ratings(con), db.listeners(con)
    finally:
        con.close()
    points, models = int(meta["points"]), tuple(meta["models"])
    failed = analysis.failed_checks(rows, points)
    c = analysis.comparisons(rows, models, points, frozenset(failed))
    if len(c) < 2:
        raise ValueError(f"{folder} has {len(c)} usable model-pair ratings; collect more before a report")
    wins, trials, ties = analysis.win_counts(c)
    sd = analysis.binomial_sd(wins, trials)
    groups = analysis.model_scores(c)
    h, df, p_kw = analysis.kruskal_wallis(groups)
    posthoc = analysis.mann_whitney_posthoc(groups, models)
    theta, low, high = analysis.bootstrap_bradley_terry(c, reps, seed)
    rates = analysis.win_rates(analysis.pairwise_wins(c), models)
    agreement = analysis.listener_agreement(c)
    simulated = sum(1 for p in people if p["kind"] == "simulated")
    finished = sum(1 for p in people if p["finished"])
    check_rows = sum(1 for r in rows if r["check_kind"])
    out.mkdir(parents=True, exist_ok=True)
    _figure(out / "figure3.png", models, wins, trials, sd, theta, low, high, simulated)

    lines = ["# Listening study report", ""]
    if simulated:
        lines += [SIMULATED_BANNER.format(n=simulated), ""]
    lines += [
        f"Models: {', '.join(_title(m) for m in models)}. Scale: {points} points, 1 = A much more pleasing, "
        f"{points} = B much more pleasing, {int(analysis.centre(points))} = no preference.",
        "",
        f"- Listeners: **{len(people)}** ({finished} finished; {simulated} simulated).",
        f"- Excluded for a failed attention check: **{len(failed)}** listener(s) "
        f"({sum(failed.values())} failed check(s)); they stay in the database and are left out below.",
        f"- Ratings: **{len(rows)}** in the database, {check_rows} of them attention checks; "
        f"**{len(c)}** model-pair ratings from {len(c.listeners)} listeners analysed, "
        f"{int((c.score == 0).sum())} of them without a preference.",
        "",
        "## Figure 3: how often each model's melody was preferred",
        "",
        "![Figure 3](figure3.png)",
        "",
        "| model | comparisons | preferred | no preference | binomial s.d. |",
        "|---|---|---|---|---|",
    ]
    for m, w, n, t, s in zip(models, wins, trials, ties, sd, strict=True):
        lines.append(f"| {_title(m)} | {n} | {w} | {t} | {s:.2f} |")
    lines += [
        "",
        "## The paper's tests",
        "",
        f"Kruskal–Wallis H across the models' scores (each rating signed towards the model): "
        f"χ²({df}) = {h:.3f}, p {'< 0.001' if p_kw < 0.001 else f'= {p_kw:.3f}'}.",
        "",
        "The paper, from 192 ratings: χ²(3) = 109.480, p < 0.001; Q, Ψ and G above the Note RNN (p < .001), "
        "Q and Ψ above G, Q and Ψ not different (docs/spec.md §11).",
        "",
        "Mann–Whitney U, two-sided, Holm-corrected over the model pairs; P(first > second) is U / (n₁n₂):",
        "",
        "| pair | U | p | p (Holm) | P(first > second) |",
        "|---|---|---|---|---|",
    ]
    for r in posthoc:
        lines.append(f"| {_title(r['a'])} vs {_title(r['b'])} | {r['U']:.1f} | {_p(r['p'])} | {_p(r['p_holm'])} | "
                     f"{r['superiority']:.3f} |")  # fmt: skip
    lines += [
        "",
        "Each rating enters two groups (once per model, with opposite signs), as in the paper's analysis, so these "
        "p-values treat dependent scores as independent; the Bradley–Terry intervals below resample whole "
        "listeners and do not.",
        "",
        "## Beyond the paper",
        "",
        f"Bradley–Terry log-strengths (choix, I-LSR, mean 0; ties left out), 95 % percentile intervals from "
        f"{reps} resamples of the listeners (seed {seed}):",
        "",
        "| model | θ | 95 % interval |",
        "|---|---|---|",
    ]
    for m, t, lo, hi in zip(models, theta, low, high, strict=True):
        lines.append(f"| {_title(m)} | {t:+.3f} | [{lo:+.3f}, {hi:+.3f}] |")
    lines += [
        "",
        "Win rate of every model pair (ratings with a preference), Wilson 95 % interval, two-sided binomial test "
        "of 1/2, and the ratings of that pair a difference of this size would need (level 0.05, power 0.8):",
        "",
        "| pair | first won | second won | win rate of first | 95 % interval | p | needed (with a preference) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rates:
        needed = analysis.ratings_needed(r["rate"]) if not math.isnan(r["rate"]) else float("nan")
        shown = "—" if math.isnan(needed) or math.isinf(needed) else f"{int(needed):,}"
        lines.append(f"| {_title(r['a'])} vs {_title(r['b'])} | {r['wins_a']} | {r['wins_b']} | {r['rate']:.3f} | "
                     f"[{r['low']:.3f}, {r['high']:.3f}] | {_p(r['p'])} | {shown} |")  # fmt: skip
    lines += [
        "",
        f"Agreement between listeners: Krippendorff's α (interval) over the model pairs = "
        f"{'—' if math.isnan(agreement) else f'{agreement:.3f}'} (1: every listener scores each pair alike, "
        "0: no more alike than chance; each listener's mean score per pair is one value).",
        "",
        f"Settings: {meta.get('pairs')} model pairs + {len(meta.get('checks', []))} attention check(s) per listener, "
        f"{_span(meta['melodies'].values())} melodies per model, schedule seed "
        f"{meta.get('seed')}, {meta.get('qpm')} quarter notes per minute; melodies from {meta.get('source')}.",
        "",
    ]
    path = out / "report.md"
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return path


__all__ = ["MODEL_TITLES", "SIMULATED_BANNER", "build_report"]
