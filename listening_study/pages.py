"""The listener's pages (instructions and consent, one pair at a time, thanks) and the experimenter's progress page.

The pair page has two players without seek bars: each plays its melody from the start, and the rating scale
unlocks once both have played to the end. The page names the melodies "A" and "B" only; its audio addresses
are the opaque ids of the study folder. A small script sends the rating as JSON with a submission id drawn in
the browser (kept per pair in ``sessionStorage``, so a resend after a lost answer is recognised).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence

LIKERT_LABELS: dict[int, tuple[str, ...]] = {
    5: ("A much more pleasing", "A more pleasing", "No preference", "B more pleasing", "B much more pleasing"),
    7: (
        "A much more pleasing", "A more pleasing", "A slightly more pleasing", "No preference",
        "B slightly more pleasing", "B more pleasing", "B much more pleasing",
    ),
}  # fmt: skip
"""The Likert scale's labels, 1 (left) to ``points`` (right), by its number of points."""

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222;
       line-height: 1.45; }
h1 { font-size: 1.5rem; } .progress { color: #555; }
.players { display: flex; gap: 1rem; margin: 1.2rem 0; }
.player { flex: 1; border: 1px solid #ccc; border-radius: 0.5rem; padding: 0.8rem; text-align: center; }
.player h2 { margin: 0 0 0.5rem; font-size: 1.3rem; }
.player button { font-size: 1rem; padding: 0.4rem 1.2rem; }
.status { display: block; margin-top: 0.4rem; font-size: 0.85rem; color: #666; }
.player.done { border-color: #2a7d3f; } .player.done .status { color: #2a7d3f; }
fieldset { border: 1px solid #ccc; border-radius: 0.5rem; }
fieldset:disabled { opacity: 0.45; }
.scale { display: flex; justify-content: space-between; gap: 0.3rem; }
.scale label { flex: 1; text-align: center; font-size: 0.8rem; cursor: pointer; }
.scale input { display: block; margin: 0 auto 0.3rem; transform: scale(1.3); }
#submit { margin-top: 1rem; font-size: 1rem; padding: 0.5rem 1.5rem; }
.error { color: #b00020; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; }
"""

_PAIR_SCRIPT = """
const pos = document.body.dataset.position;
const state = {};
for (const side of ['a', 'b']) {
  const audio = document.getElementById('audio-' + side), button = document.getElementById('play-' + side);
  state[side] = {audio, plays: 0, ended: false};
  button.addEventListener('click', () => {
    for (const other of ['a', 'b']) if (other !== side) state[other].audio.pause();
    audio.currentTime = 0; state[side].plays += 1; audio.play();
    document.getElementById('status-' + side).textContent = 'playing…';
  });
  audio.addEventListener('ended', () => {
    state[side].ended = true;
    document.getElementById('player-' + side).classList.add('done');
    document.getElementById('status-' + side).textContent = 'played to the end';
    if (state.a.ended && state.b.ended) {
      document.getElementById('scale').disabled = false; document.body.dataset.unlocked = 'true';
    }
  });
}
const heard = (audio) => { let s = 0; for (let i = 0; i < audio.played.length; i++)
  s += audio.played.end(i) - audio.played.start(i); return s; };
const key = 'submission-' + pos;
let submission = sessionStorage.getItem(key);
if (!submission) {
  submission = Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('');
  sessionStorage.setItem(key, submission);
}
const form = document.getElementById('rating');
form.addEventListener('change', () => { document.getElementById('submit').disabled = false; });
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const choice = form.querySelector('input[name=likert]:checked');
  if (!choice || !(state.a.ended && state.b.ended)) return;
  document.getElementById('submit').disabled = true;
  const body = {submission_id: submission, position: Number(pos), likert: Number(choice.value),
                plays_a: state.a.plays, plays_b: state.b.plays,
                seconds_a: heard(state.a.audio), seconds_b: heard(state.b.audio)};
  try {
    const response = await fetch('/api/rate', {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
    const answer = await response.json();
    if (response.ok || answer.duplicate) { location.replace(answer.next || '/pair'); return; }
    document.getElementById('error').textContent = answer.error;
  } catch (err) {
    document.getElementById('error').textContent = 'The rating could not be sent; check the connection and try again.';
  }
  document.getElementById('submit').disabled = false;
});
"""


def _page(title: str, body: str, attributes: str = "", script: str = "") -> str:
    tail = f"<script>{script}</script>" if script else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body{attributes}>{body}{tail}</body></html>"
    )


def consent_page(positions: int, seconds: float, resume: int | None = None, refused: bool = False) -> str:
    """The instructions and consent form; ``resume``: the pair a returning listener is at (None: a new one);
    ``refused``: the form came back without consent."""
    minutes = max(1, round(positions * (2 * seconds + 10) / 60))
    again = (
        f"<p><a href='/pair' id='resume'>Continue where you left off (pair {resume} of {positions})</a></p>"
        if resume is not None
        else ""
    )
    body = (
        "<h1>Which melody is more pleasing?</h1>"
        f"<p>You will hear {positions} pairs of short melodies, about {seconds:.0f} seconds each, played by the"
        " same simple synthesiser. For each pair, play melody A and melody B to the end (as often as you like),"
        f" then say which one you find more pleasing to listen to. It takes about {minutes} minutes."
        " Headphones or a quiet room help.</p>"
        "<p>There are no right answers: we want your own taste. Some pairs check that the sound works.</p>"
        "<p>What is kept: your ratings, how often and how long you played each melody, and when, under a random"
        " code stored in a cookie of this browser. No name, e-mail or address is asked or kept. You may stop at"
        " any time; ratings given until then are kept. Coming back in this browser continues where you were.</p>"
        f"{again}"
        + ("<p class='error' id='refused'>Please tick the box to agree before starting.</p>" if refused else "")
        + "<form method='post' action='/start'><label><input type='checkbox' name='consent' value='yes' required>"
        " I agree to take part and to my ratings being kept as described.</label>"
        "<p><button type='submit' id='start'>Start</button></p></form>"
    )
    return _page("Listening study", body)


def pair_page(position: int, positions: int, audio_a: str, audio_b: str, points: int) -> str:
    """One pair: two players (A, B), the Likert scale locked until both played to the end, progress."""
    labels = LIKERT_LABELS[points]
    scale = "".join(
        f"<label><input type='radio' name='likert' value='{i}' id='likert-{i}'>{html.escape(text)}</label>"
        for i, text in enumerate(labels, start=1)
    )
    players = "".join(
        f"<div class='player' id='player-{s}'><h2>Melody {s.upper()}</h2>"
        f"<audio id='audio-{s}' preload='auto' src='/audio/{html.escape(a)}.wav'></audio>"
        f"<button type='button' id='play-{s}'>▶ Play {s.upper()}</button>"
        f"<span class='status' id='status-{s}'>not played yet</span></div>"
        for s, a in (("a", audio_a), ("b", audio_b))
    )
    body = (
        f"<p class='progress' id='progress'>Pair {position} of {positions}</p>"
        "<h1>Which melody is more pleasing?</h1>"
        f"<div class='players'>{players}</div>"
        "<form id='rating'><fieldset id='scale' disabled>"
        "<legend>Play both melodies to the end, then choose:</legend>"
        f"<div class='scale'>{scale}</div></fieldset>"
        "<button type='submit' id='submit' disabled>Next</button> <span class='error' id='error'></span></form>"
    )
    return _page(f"Pair {position} of {positions}", body, f" data-position='{position}'", _PAIR_SCRIPT)


def thanks_page(positions: int) -> str:
    """The last page."""
    body = (
        "<h1>Thank you!</h1>"
        f"<p id='done'>You rated all {positions} pairs. Your answers are saved; you can close this page.</p>"
    )
    return _page("Thank you", body)


def admin_page(summary: Mapping[str, object], listeners: Sequence[Mapping[str, object]], token: str) -> str:
    """The experimenter's progress page: the study's design, each listener's progress, the export links."""
    rows = "".join(
        f"<tr><td>{row['number']}</td><td>{html.escape(str(row['kind']))}</td><td>{row['ratings']}</td>"
        f"<td>{'yes' if row['finished'] else 'no'}</td></tr>"
        for row in listeners
    )
    query = f"?token={html.escape(token)}"
    body = (
        "<h1>Listening study: progress</h1>"
        f"<pre>{html.escape(json.dumps(summary, indent=2))}</pre>"
        f"<p>Export: <a href='/admin/ratings.csv{query}'>ratings.csv</a> · "
        f"<a href='/admin/ratings.json{query}'>ratings.json</a></p>"
        f"<table><tr><th>listener</th><th>kind</th><th>ratings</th><th>finished</th></tr>{rows}</table>"
    )
    return _page("Study progress", body)


__all__ = ["LIKERT_LABELS", "admin_page", "consent_page", "pair_page", "thanks_page"]
