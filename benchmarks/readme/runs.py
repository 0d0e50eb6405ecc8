"""The README's blocks of the other committed runs: the c sweep, KL-PPO and RLOO beside the tuners, the
ablations, the speed report and the one-seed reproduction. Each takes the results folder and returns Markdown."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.readme.text import (
    commands,
    finite,
    floor_sentence,
    load,
    number,
    percent,
    tests_of,
    tests_table,
    with_interval,
)
from benchmarks.sweep.aggregate import BETTER
from benchmarks.sweep.compare import tests as compare_tests
from benchmarks.sweep.differences import compare, family
from benchmarks.sweep.grid import format_value
from benchmarks.sweep.report import cell_title

ALGORITHMS = ("q", "psi", "g", "rl_only")
ON_POLICY, OFF_POLICY = ("kl_ppo", "rloo"), ("q", "psi", "g")


def c_sweep(results: Path) -> str:
    """Mean log p and mean rMT per algorithm and c, then the tests of the README's two claims about c."""
    summary = load(results, "c_sweep", "summary.json")
    cs = [format_value(float(c)) for c in summary["settings"]["c"]]
    n = summary["cells"][f"q/c={cs[0]}"]["n_seeds"]
    steps = summary["settings"]["steps"]
    lines = [
        commands(summary["command"]),
        "",
        f"Mean over **{n} seeds** [95 % t-interval], {steps:,} env steps per tuner:",
        "",
    ]
    for name, title in (("mean_log_prior", "mean log p(a\\|s)"), ("mean_music_theory_reward", "mean rMT per note")):
        lines += [f"| {title} | " + " | ".join(f"c = {c}" for c in cs) + " |", "|---|" + "---|" * len(cs)]
        for algorithm in ALGORITHMS:
            cells = [with_interval(summary["cells"][f"{algorithm}/c={c}"]["stats"][name]["per_seed"]) for c in cs]
            lines.append(f"| {cell_title(algorithm)} | " + " | ".join(cells) + " |")
        lines.append("")
    low, high, middle = cs[0], cs[-1], "0.5"
    triples = [(f"{a}/c={high}", f"{a}/c={low}", "mean_log_prior") for a in ALGORITHMS]
    triples += [(f"{a}/c={high}", f"{a}/c={middle}", "mean_music_theory_reward") for a in ALGORITHMS]
    rows = tests_of(summary, triples)
    tested = f"Tested: log p at c = {high} against c = {low}, and rMT at c = {high} against c = {middle}. "
    label = lambda key: f"{cell_title(key)} at {key.split('/')[1]}"  # noqa: E731
    lines += [tested + floor_sentence(rows), "", *tests_table(rows, label)]
    return "\n".join(lines)


def _as_cells(sweep: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {key: {"stats": {name: {"per_seed": row["per_seed"]} for name, row in cell["rows"].items()}}
            for key, cell in sweep["cells"].items()}  # fmt: skip


def _mean(row: Mapping[str, Any]) -> float | None:
    seeds = finite(row["per_seed"])
    return sum(seeds) / len(seeds) if seeds else None


def _kl_table(sweep: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
    titles = {"mean_log_prior": "log p(a\\|s)", "mean_music_theory_reward": "rMT per note",
              "kl_to_prior": "KL per note (mean)", "distinct_melodies": "distinct melodies",
              "outside_overlap_area": "outside: OA, rule-free", "objective": "rMT/c − KL (Eq. 9)",
              "final_c": "c at the end", "train_seconds": "training time per seed"}  # fmt: skip
    lines = ["| | seeds | " + " | ".join(titles[c] for c in columns) + " |", "|---|---|" + "---|" * len(columns)]
    for key, cell in sweep["cells"].items():
        if key == "note_rnn":
            continue
        texts = []
        for column in columns:
            row = cell["rows"].get(column)
            mean = None if row is None else _mean(row)
            if mean is None:
                texts.append("—")
            elif column in ("mean_log_prior", "mean_music_theory_reward", "objective"):
                texts.append(with_interval(row["per_seed"]))
            elif column == "outside_overlap_area":
                texts.append(with_interval(row["per_seed"], digits=3))
            elif column == "distinct_melodies":
                texts.append(percent(mean, 1))
            elif column == "train_seconds":
                texts.append(f"{mean:.0f} s")
            else:
                texts.append(number(mean, 2))
        lines.append(f"| {cell_title(key)} | {cell['n_seeds']} | " + " | ".join(texts) + " |")
    return lines


def _pairwise(cells: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    return compare_tests(cells), "Tested, log p and rMT between every two algorithms. "


def _collapse(cells: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    algorithm = lambda key: key.split("/")[0]  # noqa: E731
    triples = [(a, b, "distinct_melodies") for a in cells if algorithm(a) in ON_POLICY
               for b in cells if algorithm(b) in OFF_POLICY]  # fmt: skip
    return tests_of(
        {"cells": cells}, triples
    ), "Tested, the collapse: distinct melodies of KL-PPO and RLOO against Q, Ψ and G. "


def _kl_block(results: Path, index: int, columns: Sequence[str], tests: Callable = _pairwise) -> str:
    """One sweep of the comparison: its table, then ``tests``' comparisons (rows and the sentence naming them)."""
    sweep = load(results, "kl_pg", "comparison.json")["sweeps"][index]
    rows, tested = tests(_as_cells(sweep))
    head = f"{sweep['label']}: mean [95 % t-interval] (`{sweep['command']}`)"
    return "\n".join([head, "", *_kl_table(sweep, columns), "", tested + floor_sentence(rows), "", *tests_table(rows)])


def kl_pg_commands(results: Path) -> str:
    """The commands of the two sweeps and of their comparison, as recorded."""
    report = load(results, "kl_pg", "comparison.json")
    return commands(*(sweep["command"] for sweep in report["sweeps"]), report["command"])


def kl_pg_matched(results: Path) -> str:
    """The matched-KL sweep: every algorithm's c moved so that its KL to the prior tracked the target."""
    return _kl_block(results, 1, ("mean_log_prior", "mean_music_theory_reward", "kl_to_prior", "distinct_melodies",
                                  "outside_overlap_area", "final_c", "train_seconds"))  # fmt: skip


def kl_pg_fixed(results: Path) -> str:
    """The sweep at the paper's c = 0.5, with the test of what its text claims: the policy-gradient agents'
    collapse onto few melodies (distinct melodies against each off-policy tuner, one Holm family of 6)."""
    return _kl_block(results, 0, ("mean_log_prior", "mean_music_theory_reward", "kl_to_prior", "distinct_melodies",
                                  "outside_overlap_area", "objective"), _collapse)  # fmt: skip


ABLATIONS = (("labels_original", "note_rnn", "notes_excessively_repeated"), ("labels_original", "q", "mean_log_prior"),
             ("g_trains_reward_rnn", "g", "notes_not_in_key"), ("g_trains_reward_rnn", "g", "mean_log_prior"),
             ("g_trains_reward_rnn", "g", "mean_log_prior_own"),
             ("per_tensor_clip", "q", "melodies_starting_with_tonic"),
             ("bootstrap_last_note", "q", "notes_excessively_repeated"))  # fmt: skip
"""The ablations the README quotes: (switch, model, statistic)."""
PRIORS = ("note_rnn_control", "note_rnn_original")
"""The two Note RNNs the label cells tune, trained by the first recorded commands."""
ABLATION_TITLES = {"mean_log_prior": "mean log p(a\\|s) under the Note RNN",
                   "mean_log_prior_own": "mean log p(a\\|s) under its own (drifted) prior"}  # fmt: skip


def ablations(results: Path) -> str:
    """The Note RNN trainings and cells recorded, then the quoted ablations: each switch off and on (seed
    means), the paper's value, the test of the change."""
    ablation = load(results, "ablations", "ablations.json")
    data = ablation["comparisons"]
    trainings = [load(results, "ablations", f"{prior}.provenance.json")["command"] for prior in PRIORS]
    recorded = trainings + sorted({cell["command"] for cell in ablation["cells"].values()})
    rows = []
    for switch, model, name in ABLATIONS:
        entry = data[switch]["models"][model][name]
        better = BETTER.get(name.removesuffix("_own"), "higher")
        rows.append({"switch": switch, "model": model, "statistic": name, "entry": entry,
                     **compare(entry["on"]["per_seed"], entry["off"]["per_seed"], better)})  # fmt: skip
    rows = family(rows)
    lines = ["| switch | model | statistic | off | on | paper | exact Mann–Whitney p | Holm-adjusted |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        plain = r["statistic"].startswith("mean_log_prior")
        shown = (lambda v: number(v, 2)) if plain else percent
        paper = r["entry"].get("paper")
        title = ABLATION_TITLES.get(r["statistic"], r["statistic"].replace("_", " "))
        values = [
            shown(r["entry"]["off"]["mean"]),
            shown(r["entry"]["on"]["mean"]),
            "—" if paper is None else shown(paper),
        ]
        tests = f"{r['p_mann_whitney']:.2g} | {r['p_holm']:.2g}"
        lines.append(
            f"| `{r['switch']}` | {cell_title(r['model'])} | {title} | " + " | ".join(values) + f" | {tests} |"
        )
    return "\n".join([commands(*recorded), "", *lines, "", "Seed means (off: the switch off, on: on). "
                      + floor_sentence(rows)])  # fmt: skip


def _table(speed: Mapping[str, Any], section: str, index: int = 0) -> dict[str, Any]:
    return [t for t in speed["tables"] if t["section"].startswith(section)][index]


def _cell(table: Mapping[str, Any], row: str, column: int) -> str:
    return next(r for r in table["rows"] if r[0].startswith(row))[column]


def _value(text: str) -> float:
    return float(text.replace(",", "").split()[0])


def speed(results: Path) -> str:
    """The speed table, every figure from ``speed.json`` (the tables of the committed ``speed.md``)."""
    data = load(results, "speed.json")
    head = [line for line in data["lines"] if line.startswith(("Machine:", "Run:"))]
    command = next(line for line in data["lines"] if line.startswith("Command:")).split("`")[1]
    training, steps = _table(data, "3. Training"), _table(data, "3. Training", 1)
    single, population = _table(data, "3. Training", 2), _table(data, "3b.")
    load_ = _table(data, "2b.")
    ours, python, dqn = (_cell(training, r, 1) for r in ("RLTuner Q (", "RLTuner Q, Python", "SB3 DQN"))
    one, one_dqn = _cell(single, "RLTuner Q, one env", 1), _cell(single, "SB3 DQN, one env", 1)
    k1_py, k1_native = _cell(steps, "1", 1), _cell(steps, "1", 2)
    alone, together = _cell(population, "one agent alone", 2), _cell(population, "K = ", 2)
    per_agent = _value(_cell(population, "K = ", 1)) / _value(_cell(population, "one agent alone", 1))
    loaded = [r for r in load_["rows"] if r[0].startswith("Q-learning")]
    whole, staged = _table(data, "4.")["rows"][-3], _table(data, "4.")["rows"][-4]
    paper = next(line for line in data["lines"] if line.startswith("- wall time:"))
    ratio = lambda a, b: f"{_value(a) / _value(b):.2f}×"  # noqa: E731
    lines = [commands(command), "", f"From `{data['report']}`. {'; '.join(h.rstrip() for h in head)}", "",
             "| what | figure |", "|---|---|",
             f"| Q-learning at docs/spec.md §6 settings, N = 64, incl. gradient steps | {ours} env steps/s: "
             f"**{ratio(ours, dqn)}** SB3 DQN ({dqn}), **{ratio(ours, python)}** our Python gradient step ({python}) |",
             f"| one gradient step of batch 32, alone | {k1_native} µs compiled, {k1_py} µs in Python "
             f"(**{ratio(k1_py, k1_native)}**) |",
             f"| handed one `gym.make` env (RLTuner makes it 64 melodies) | {one} env steps/s, "
             f"**{ratio(one, one_dqn)}** SB3 DQN on that env ({one_dqn}) |",
             f"| a `Population` of {population['section'].split('of ', 1)[1]} | {together} env steps/s in all, "
             f"**{ratio(together, alone)}** one agent alone (per agent {per_agent:.2f}×) |",
             f"| Q-learning with the other core kept busy, one torch thread vs torch's default threads | "
             f"{loaded[1][3]} vs {loaded[0][3]} env steps/s |",
             f"| composing + scoring ({scoring_title(data)}) | Q tuner {whole[2]} s, Note RNN {whole[1]} s (stage by "
             f"stage in one process: {staged[2]} s and {staged[1]} s) |",
             f"| paper-scale reproduction (read from its own record) | {paper.split('**')[1]} |"]  # fmt: skip
    return "\n".join(lines)


def scoring_title(data: Mapping[str, Any]) -> str:
    """Section 4's heading without its number: ``Composing and scoring 100,000 melodies …``."""
    return _table(data, "4.")["section"].split(". ", 1)[1].split(" (")[0]


def paper_run(results: Path) -> str:
    """The one-seed reproduction's command, wall time and training time."""
    run = load(results, "paper", "table1.json")
    training = sum(run["training_seconds"].values()) / 2  # two tuners train at a time, one per core
    return (f"`{run['command']}`: {run['wall_time_seconds'] / 60:.1f} min on {run['machine']}, about "
            f"{training / 60:.1f} of them training (four tuners, two at a time).")  # fmt: skip


__all__ = [
    "ABLATIONS",
    "ablations",
    "c_sweep",
    "kl_pg_commands",
    "kl_pg_fixed",
    "kl_pg_matched",
    "paper_run",
    "scoring_title",
    "speed",
]
