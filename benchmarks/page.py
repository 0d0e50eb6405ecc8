"""The listening page: one self-contained HTML file beside the samples it plays.

The page links its audio, MIDI and piano-roll files by relative paths, so the results folder can be
moved or served as it is. A small inline script marks ``<body data-audio-status>`` once every audio
element has loaded its metadata ("ok") or failed ("error: <files>"), which the browser test reads.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from melody_env.atomic import atomic_write

MODEL_TITLES: dict[str, str] = {
    "note_rnn": "Note RNN",
    "q": "Q",
    "psi": "Ψ",
    "g": "G",
    "rl_only": "RL only",
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td .paper { color: #888; font-size: 0.8rem; }
.models { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1rem; }
.sample { border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem; margin-bottom: 0.5rem; }
.sample img { width: 100%; image-rendering: pixelated; }
.notes { font-family: monospace; font-size: 0.75rem; word-break: break-all; color: #555; }
audio { width: 100%; }
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
    """One melody on the page: its files (relative to the page) and its notes as text."""

    wav: str
    midi: str
    png: str
    notes: str


def _fmt(value: float | None, statistic: str) -> str:
    if value is None:
        return "—"
    if statistic.startswith("autocorrelation") or statistic.startswith("mean_"):
        return f"{value:.3f}"
    return f"{100 * value:.2f} %"


def _table(models: Mapping[str, Mapping[str, float]], paper: Mapping[str, Mapping[str, float | None]]) -> str:
    names = list(models)
    statistics = list(next(iter(models.values())))
    head = "".join(f"<th>{html.escape(MODEL_TITLES.get(m, m))}</th>" for m in names)
    rows = []
    for stat in statistics:
        cells = []
        for m in names:
            ours = _fmt(models[m].get(stat), stat)
            theirs = paper.get(m, {}).get(stat)
            note = f'<br><span class="paper">paper {_fmt(theirs, stat)}</span>' if theirs is not None else ""
            cells.append(f"<td>{ours}{note}</td>")
        rows.append(f"<tr><td>{html.escape(stat.replace('_', ' '))}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>statistic</th>{head}</tr>{''.join(rows)}</table>"


def write_listening_page(
    out_dir: str | Path,
    models: Mapping[str, Mapping[str, float]],
    paper: Mapping[str, Mapping[str, float | None]],
    samples: Mapping[str, Sequence[Sample]],
    figures: Sequence[tuple[str, str]] = (),
    subtitle: str = "",
) -> Path:
    """Write ``index.html`` into ``out_dir`` and return its path.

    :param models: model -> statistic -> our value (the Table 1 rows).
    :param paper: model -> statistic -> the paper's value (None or absent where it has none).
    :param samples: model -> samples to play, with paths relative to ``out_dir``.
    :param figures: (caption, image path relative to ``out_dir``) pairs.
    :param subtitle: one line on how the results were made (command, scale, machine).
    """
    out = Path(out_dir)
    figs = "".join(
        f'<figure><img src="{html.escape(src)}" alt="{html.escape(cap)}" style="max-width:100%">'
        f"<figcaption>{html.escape(cap)}</figcaption></figure>"
        for cap, src in figures
    )
    columns = []
    for model, items in samples.items():
        cards = "".join(
            f'<div class="sample"><audio controls preload="metadata" src="{html.escape(s.wav)}"></audio>'
            f'<img src="{html.escape(s.png)}" alt="piano roll">'
            f'<div class="notes">{html.escape(s.notes)}</div>'
            f'<a href="{html.escape(s.midi)}">MIDI</a></div>'
            for s in items
        )
        columns.append(f"<section><h3>{html.escape(MODEL_TITLES.get(model, model))}</h3>{cards}</section>")
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>RL Tuner: listen and compare</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>RL Tuner: listen and compare</h1>"
        f"<p>{html.escape(subtitle)}</p>"
        "<h2>Table 1</h2>"
        f"{_table(models, paper)}"
        f"<h2>Figures</h2>{figs}"
        f"<h2>Samples</h2><div class='models'>{''.join(columns)}</div>"
        f"<script>{_CHECK_SCRIPT}</script></body></html>"
    )
    path = out / "index.html"
    with atomic_write(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


__all__ = ["MODEL_TITLES", "Sample", "write_listening_page"]
