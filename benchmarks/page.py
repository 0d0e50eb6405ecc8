"""The listening page: one self-contained HTML file beside the samples it plays.

With ``rl-tuner reproduce --outside N`` it also has a section "Judged from outside": the short table
of :func:`benchmarks.outside.report.short_summary`, linking ``outside.md`` beside it.

The page links its audio, MIDI and piano-roll files by relative paths, so the results folder can be
moved or served as it is. A small inline script marks ``<body data-audio-status>`` once every audio
element has loaded its metadata ("ok") or failed ("error: <files>"), which the browser test reads.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.svg_roll import COLOURS, piano_roll_svg, pitch_name, shared_pitch_range
from reward_rules.tokens import STEPS_PER_BAR, STEPS_PER_QUARTER, token_name
from sequence_env.atomic import atomic_write

MODEL_TITLES: dict[str, str] = {
    "note_rnn": "Note RNN",
    "q": "Q",
    "psi": "Ψ",
    "g": "G",
    "rl_only": "RL only",
    "kl_ppo": "KL-PPO",
    "rloo": "RLOO",
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 96rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td .paper { color: #777; font-size: 0.8rem; }
.figures img { max-width: 100%; }
.legend { display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
.legend i { display: inline-block; width: 1.4em; height: 0.8em; margin-right: 0.35em; vertical-align: middle;
            border: 1px solid #bbb; }
.scroll { overflow-x: auto; border: 1px solid #ddd; }
table.samples { margin: 0; border: none; width: 100%; table-layout: fixed; }
table.samples th, table.samples td { vertical-align: top; text-align: left; padding: 0.3rem; }
table.samples th.index { position: sticky; left: 0; z-index: 1; background: #fff; width: 4.2rem; }
table.samples thead th { background: #f6f6f6; }
.samples audio { width: 100%; height: 2.2rem; }
.samples svg { display: block; width: 100%; max-width: 28rem; height: auto; margin: 0.25rem 0; }
.notes { font-family: monospace; font-size: 0.75rem; color: #555; overflow-wrap: anywhere; }
.links { font-size: 0.8rem; }
"""

_CHECK_SCRIPT = """
window.addEventListener('load', () => {
  const audios = Array.from(document.querySelectorAll('audio'));
  const failed = [];
  let pending = audios.length;
  const done = () => {
    document.body.dataset.audioStatus = failed.length ? 'error: ' + failed.join(' ') : 'ok';
  };
  if (!pending) { done(); return; }
  for (const a of audios) {
    const settle = (ok) => { if (!ok) failed.push(a.currentSrc || a.getAttribute('src'));
                             if (--pending === 0) done(); };
    if (a.readyState >= 1) { settle(true); continue; }
    a.addEventListener('loadedmetadata', () => settle(true), { once: true });
    a.addEventListener('error', () => settle(false), { once: true });
    a.load();
  }
});
"""


@dataclass(frozen=True)
class Sample:
    """One melody on the page: its files (relative to the page), its notes and the primer it was composed from.

    :param wav: the audio file.
    :param midi: the MIDI file.
    :param png: the piano-roll picture (linked; the page draws its own roll on a shared pitch axis).
    :param melody: the melody as 38-class tokens (docs/spec.md §1), one per 16th note.
    :param primer: the class the model was given before the melody (None: none).
    """

    wav: str
    midi: str
    png: str
    melody: tuple[int, ...]
    primer: int | None = None


@dataclass(frozen=True)
class OutsideSummary:
    """The section "Judged from outside": the outside measures (:mod:`benchmarks.outside`) in short.

    :param melodies: melodies measured per model.
    :param lead: the closest-model sentence (:func:`benchmarks.outside.report.closest_sentence`),
        ``**bold**`` as in Markdown.
    :param head: the table's column titles.
    :param rows: one row of cells per set, the validation halves first.
    :param report: the full report, relative to the page.
    """

    melodies: int
    lead: str
    head: Sequence[str]
    rows: Sequence[Sequence[str]]
    report: str = "outside.md"


STATISTIC_TITLES: dict[str, str] = {
    "mean_log_prior": "mean log p(a|s) under the Note RNN",
    "mean_music_theory_reward": "mean rMT per note",
    "distinct_melodies": "distinct melodies",
}
"""Row titles of the statistics whose key does not read well with underscores made spaces."""


def _fmt(value: float | None, statistic: str) -> str:
    if value is None or math.isnan(value):  # NaN: nothing to count (no leap, every melody constant)
        return "—"
    if statistic.startswith("autocorrelation") or statistic.startswith("mean_"):
        return f"{value:.3f}"
    return f"{100 * value:.2f} %"


def _table(models: Mapping[str, Mapping[str, float]], paper: Mapping[str, Mapping[str, float | None]]) -> str:
    names = list(models)
    statistics = list(dict.fromkeys(stat for values in models.values() for stat in values))
    head = "".join(f"<th>{html.escape(MODEL_TITLES.get(m, m))}</th>" for m in names)
    rows = []
    for stat in statistics:
        cells = []
        for m in names:
            ours = _fmt(models[m].get(stat), stat)
            theirs = paper.get(m, {}).get(stat)
            note = f'<br><span class="paper">paper {_fmt(theirs, stat)}</span>' if theirs is not None else ""
            cells.append(f"<td>{ours}{note}</td>")
        title = STATISTIC_TITLES.get(stat, stat.replace("_", " "))
        rows.append(f"<tr><td>{html.escape(title)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>statistic</th>{head}</tr>{''.join(rows)}</table>"


def notes_text(melody: Sequence[int]) -> str:
    """The melody as note names, ``|`` between beats (4 steps) and ``‖`` between bars (16 steps).

    :param melody: 38-class tokens.
    """
    out = []
    for step, token in enumerate(melody):
        if step:
            out.append(" ‖ " if step % STEPS_PER_BAR == 0 else " | " if step % STEPS_PER_QUARTER == 0 else " ")
        out.append(token_name(int(token)))
    return "".join(out)


def _legend(low: int, high: int) -> str:
    swatch = '<span><i style="background:{}"></i>{}</span>'.format
    return (
        '<div class="legend">'
        + swatch(
            COLOURS["primer"],
            "primer: the note the model was given before its melody, held while the melody opens with holds"
            " (not played, not scored)",
        )
        + swatch(COLOURS["note"], "note, as long as it sounds")
        + swatch(COLOURS["onset"], "note start")
        + swatch(COLOURS["c_row"], "C rows")
        + swatch(COLOURS["black_key_row"], "black keys")
        + "<span>dashed line: the melody starts; thin lines: beats (4 sixteenths); thick lines: bars (16)</span>"
        f"<span>every roll: {pitch_name(low)} to {pitch_name(high)}, so heights compare across the page</span>"
        "<span>notes: <code>-</code> holds, <code>off</code> rests, <code>|</code> beat, <code>‖</code> bar</span>"
        "</div>"
    )


def _cell(model: str, index: int, sample: Sample, low: int, high: int) -> str:
    label = f"{MODEL_TITLES.get(model, model)} sample {index}: {notes_text(sample.melody)}"
    return (
        f'<td><audio controls preload="metadata" src="{html.escape(sample.wav)}"></audio>'
        f"{piano_roll_svg(sample.melody, low, high, sample.primer, label)}"
        f'<div class="notes">{html.escape(notes_text(sample.melody))}</div>'
        f'<div class="links"><a href="{html.escape(sample.midi)}">MIDI</a> · '
        f'<a href="{html.escape(sample.png)}">PNG</a></div></td>'
    )


def _samples_table(samples: Mapping[str, Sequence[Sample]]) -> str:
    everything = [s for items in samples.values() for s in items]
    low, high = shared_pitch_range((s.melody for s in everything), (s.primer for s in everything))
    head = "".join(f"<th>{html.escape(MODEL_TITLES.get(m, m))}</th>" for m in samples)
    rows = []
    for i in range(max((len(items) for items in samples.values()), default=0)):
        row = {m: items[i] for m, items in samples.items() if i < len(items)}
        primers = {s.primer for s in row.values()} - {None}
        primer = f"<br>primer<br>{token_name(primers.pop())}" if len(primers) == 1 else ""
        cells = "".join(_cell(m, i, row[m], low, high) if m in row else "<td></td>" for m in samples)
        rows.append(f'<tr><th class="index">#{i}{primer}</th>{cells}</tr>')
    return (
        _legend(low, high)
        + f'<div class="scroll"><table class="samples" style="min-width: {4.2 + 15.5 * len(samples)}rem">'
        f'<thead><tr><th class="index">sample</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _outside_section(outside: OutsideSummary) -> str:
    lead = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(outside.lead))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in outside.head)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in outside.rows)
    link = html.escape(outside.report)
    return (
        "<h2 id='outside'>Judged from outside</h2>"
        f"<p>The first {outside.melodies:,} melodies of each model against the 32-step openings of the held-out"
        " validation tunes (docs/spec.md §2), on muspy's features: the overlapping area (OA, higher is closer)"
        " and KL divergence (lower is closer) of Yang &amp; Lerch (2018), averaged over the features no rule"
        " measures (rule-free) and over the others (ruled); the validation halves, two halves of the real tunes"
        f' compared the same way, are the mark to reach. Every number: <a href="{link}">{link}</a>.</p>'
        f"<p>{lead}</p><table><tr>{head}</tr>{rows}</table>"
    )


def write_listening_page(
    out_dir: str | Path,
    models: Mapping[str, Mapping[str, float]],
    paper: Mapping[str, Mapping[str, float | None]],
    samples: Mapping[str, Sequence[Sample]],
    figures: Sequence[tuple[str, str]] = (),
    subtitle: str = "",
    outside: OutsideSummary | None = None,
) -> Path:
    """Write ``index.html`` into ``out_dir`` and return its path.

    The samples are a table with one column per model and one row per sample index, so the melodies
    composed from the same primer sit side by side; it scrolls sideways rather than wrapping. Every
    piano roll covers the same pitches (:func:`benchmarks.svg_roll.shared_pitch_range`).

    :param models: model -> statistic -> our value (the Table 1 rows).
    :param paper: model -> statistic -> the paper's value (None or absent where it has none).
    :param samples: model -> samples to play, with paths relative to ``out_dir``; sample i of every
        model goes in row i.
    :param figures: (caption, image path relative to ``out_dir``) pairs.
    :param subtitle: one line on how the results were made (command, scale, machine).
    :param outside: the outside measures, shown after Table 1 (None: no such section).
    """
    out = Path(out_dir)
    figs = "".join(
        f'<figure><img src="{html.escape(src)}" alt="{html.escape(cap)}">'
        f"<figcaption>{html.escape(cap)}</figcaption></figure>"
        for cap, src in figures
    )
    outside_link = "" if outside is None else "<a href='#outside'>Judged from outside</a> · "
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>RL Tuner: listen and compare</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>RL Tuner: listen and compare</h1>"
        f"<p>{html.escape(subtitle)}</p>"
        f"<p><a href='#samples'>Samples</a> · <a href='#table1'>Table 1</a> · {outside_link}"
        "<a href='#figures'>Figures</a></p>"
        "<h2 id='samples'>Samples</h2>"
        "<p>One row per sample: every model composed it from the same primer note, so read across a row to"
        " compare the models. The table scrolls sideways when it is wider than the window.</p>"
        f"{_samples_table(samples)}"
        "<h2 id='table1'>Table 1</h2>"
        "<p>Ours, with the paper's value in grey where it has one (docs/spec.md §7).</p>"
        f"{_table(models, paper)}"
        f"{'' if outside is None else _outside_section(outside)}"
        f"<h2 id='figures'>Figures</h2><div class='figures'>{figs}</div>"
        f"<script>{_CHECK_SCRIPT}</script></body></html>"
    )
    path = out / "index.html"
    with atomic_write(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


__all__ = ["MODEL_TITLES", "STATISTIC_TITLES", "OutsideSummary", "Sample", "notes_text", "write_listening_page"]
