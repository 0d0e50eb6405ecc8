"""``MelodyCompose-v0``: compose a melody note by note, rewarded by a Note RNN prior and music theory."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from melody_env.batch import RENDER_MODES, MelodyBatch, render_melody
from melody_env.note_rnn import NoteRNN
from melody_env.task import resolve_primer
from reward_rules import C_MAJOR, NUM_CLASSES, Key, RuleSet
from sequence_env.envs.env import SequenceTuneEnv
from sequence_env.threads import DEFAULT_TORCH_THREADS


class MelodyComposeEnv(SequenceTuneEnv):
    """Compose a monophonic melody, one 16th-note step at a time (RL Tuner, Jaques et al. 2017).

    ## Description

    The melody instance of :class:`sequence_env.envs.env.SequenceTuneEnv` (docs/spec.md §10). The agent writes
    a melody of ``melody_length`` (32) steps. Each step is one of 38 classes
    (docs/spec.md §1): 0 = note off (a rest starts), 1 = no event (the sounding note or rest continues),
    k = 2..37 = onset of MIDI pitch 46 + k (C3..B5). A frozen *Reward RNN* (the pretrained Note RNN,
    one LSTM of 100 cells) listens to the melody; the reward combines how likely it finds each note
    with nine music-theory rules (docs/spec.md §4), as in the paper's Eq. 3.

    ## Action Space

    ``Discrete(38)``: the next class. Anything else (a float, a bool, an array of another shape, a
    class outside 0..37) raises ``TypeError``/``ValueError``.

    ## Observation Space

    A ``Dict``:

    | Key        | Space                        | Meaning                                                   |
    |------------|------------------------------|-----------------------------------------------------------|
    | `note`     | `Discrete(38)`               | the last note played (the primer's last note after reset) |
    | `h`        | `Box(-1, 1, (100,), float32)`| Reward RNN LSTM output after consuming `note`             |
    | `c`        | `Box(-B, B, (100,), float32)`| Reward RNN LSTM cell state after consuming `note`         |
    | `position` | `Discrete(melody_length + 1)`| notes of the melody played so far (0 after reset)         |

    ``note`` is the input of the paper's Q network, which keeps its own LSTM state (docs/spec.md §5); ``h`` and
    ``c`` are the Reward RNN's, so ``reward_rnn.output(h)`` are the logits of p(. | s). Their size is
    the Reward RNN's hidden size (100 for the shipped model). ``c`` grows by less than 1 per note the
    Reward RNN consumes (``c' = f·c + i·g`` with ``f, i`` in (0, 1), ``|g| < 1``), so an observation has
    ``|c| <= B = max_primer_length + melody_length`` (33 by default: a one-note primer and 32 notes;
    :func:`melody_env.batch.cell_state_bound`). A primer longer than ``max_primer_length`` is refused
    with a ``ValueError`` naming the value to pass, so the bound always holds.

    ## Rewards

    Eq. 3: ``r(s, a) = log p(a | s) + r_MT(a, s) / c`` (:func:`sequence_env.reward.compose_reward`), where
    ``p`` is the Reward RNN's softmax at temperature 1 and ``r_MT`` the weighted sum of the rules.
    ``reward_mode="rules"`` gives ``r_MT / c`` only (G learning and the RL-only baseline),
    ``reward_mode="prior"`` gives ``log p(a | s)`` only.

    ``info`` of ``step``: ``"log_prior"`` (float, ``log p(a|s)``), ``"music_theory"`` (float, ``r_MT``,
    not divided by ``c``), ``"rules/<name>"`` (float, each rule's weighted value; they sum to
    ``music_theory``) and ``"prior_log_probs"`` (``(38,)`` float32, ``log p(. | s')`` at the next state,
    which G learning needs). ``info`` of ``reset`` holds ``"prior_log_probs"`` of the first state.

    ## Starting State

    The Reward RNN starts from the zero state and consumes a *primer*, which is not part of the
    melody: by default one note onset drawn uniformly from classes 2..37 with ``np_random`` (docs/spec.md §6;
    the original drew from classes 0..36, including rests and holds and leaving out B5).
    ``primer="corpus"`` uses the first ``corpus_primer_steps`` steps of a random training melody
    of ``corpus`` (loaded on first use, slow the first time); a MIDI/ABC path or a sequence of classes
    primes every melody with those notes. ``reset(options={"primer": ...})`` overrides it once (up
    to ``max_primer_length`` steps).

    ## Episode End

    ``terminated`` is True after the last note (step ``melody_length``); there is no truncation.
    Stepping again raises ``gymnasium.error.ResetNeeded``.

    ## Arguments

    ```python
    import gymnasium as gym
    import melody_env  # registers MelodyCompose-v0

    env = gym.make("MelodyCompose-v0", render_mode="ansi", c=0.5, key="C major", melody_length=32)
    envs = gym.make_vec("MelodyCompose-v0", num_envs=256)  # MelodyComposeVectorEnv, one batched step
    ```

    :param render_mode: ``None``, ``"ansi"`` (the primer's last bar in brackets, then note names per step:
        C4 = middle C, ``-`` holds the sounding note or rest one more 16th, ``off`` starts a rest; bars split
        by ``|``), ``"rgb_array"`` (a piano roll of the melody so far) or ``"human"`` (that piano roll in a
        pygame window after every reset and step: ``pip install "rl-tuner[human]"``).
    :param checkpoint: the Reward RNN: ``None`` (the shipped Note RNN), a checkpoint path or a
        ``NoteRNN``; a frozen copy is used (eval mode, no gradients), the caller's module is untouched.
    :param c: weight of the prior against the rules (paper: 0.5).
    :param key: key of the rules (a ``reward_rules.Key`` or a string such as ``"A minor"``).
    :param melody_length: notes per melody (paper: 32).
    :param rules: a ``reward_rules.RuleSet`` (default the nine rules of docs/spec.md §4, weight 1) or a mapping
        ``{rule name: weight}`` reweighing them.
    :param reward_mode: ``"full"``, ``"rules"`` or ``"prior"`` (see Rewards).
    :param primer: ``"random"``, ``"corpus"``, a MIDI/ABC file path or a sequence of classes.
    :param corpus: source of ``primer="corpus"`` (``melody_env.data.load_corpus``), default ``"music21"``.
    :param corpus_primer_steps: steps of a corpus melody's opening used as primer (default 1).
    :param max_primer_length: the longest primer ``reset`` accepts, which bounds ``c`` (see
        Observation Space); ``None`` (default) = the longest that ``primer`` gives: 1 for ``"random"``,
        ``corpus_primer_steps`` for ``"corpus"``, the length of a fixed primer.
    :param torch_threads: torch threads for the env's torch work (building the Reward RNN, every
        step), default 1 (:mod:`sequence_env.threads`); ``None`` = torch's global setting. The caller's
        ``torch.get_num_threads()`` is the same after every env call. One thread is fastest for the
        100-cell Reward RNN, and it never enters a parallel region: torch's OpenMP thread pool does
        not survive ``fork``, so a worker forked from a process that owns one deadlocks in its first
        parallel region (e.g. ``gym.make_vec(..., vectorization_mode="async")`` after the parent ran
        torch on its default threads). On one thread the env neither creates that pool in the parent
        nor needs it in a worker. Loading a checkpoint (``NoteRNN.load``) always runs on one thread.

    ## Worker processes

    ``import melody_env`` registers ``MelodyCompose-v0`` in the importing process, and adds
    ``melody_env`` to multiprocessing's forkserver preload list (keeping the modules already there,
    such as ``__main__``), so the bare id works in workers started by fork and forkserver (SB3's
    ``SubprocVecEnv`` default), as long as ``melody_env`` is imported before the forkserver starts.
    Spawn workers re-import the main script, so a script that imports ``melody_env`` at its top level
    works too. A spawn worker of an interactive session or a notebook knows only what it imports
    itself: there, name the module in the id, ``"melody_env:MelodyCompose-v0"``, which Gymnasium
    imports before looking the id up. ``gym.make_vec(..., vectorization_mode="async")`` passes the
    env's spec, not its id, to the workers, so it works with every start method.

    ## Version History

    * v0: first version (this project).
    """

    metadata: dict[str, Any] = {"render_modes": [*RENDER_MODES, "human"], "render_fps": 16 / 3}  # noqa: RUF012
    VECTOR_ENV: ClassVar[str] = "melody_env.vector:MelodyComposeVectorEnv"

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        checkpoint: NoteRNN | str | os.PathLike | None = None,
        c: float = 0.5,
        key: Key | str = C_MAJOR,
        melody_length: int = 32,
        rules: RuleSet | Mapping[str, float] | None = None,
        reward_mode: str = "full",
        primer: str | os.PathLike | Sequence[int] = "random",
        corpus: str | os.PathLike = "music21",
        corpus_primer_steps: int = 1,
        max_primer_length: int | None = None,
        torch_threads: int | None = DEFAULT_TORCH_THREADS,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        # "human": a pygame window showing the piano roll after every reset and step (pygame is imported here,
        # so a missing install is one line at make time: pip install "rl-tuner[human]").
        self._window = None
        if render_mode == "human":
            from melody_env.listen import HumanRenderer  # pygame and the audio helpers load only for "human"

            self._window = HumanRenderer(self.metadata["render_fps"])
        core = MelodyBatch(
            1,
            checkpoint=checkpoint,
            c=c,
            key=key,
            melody_length=melody_length,
            rules=rules,
            reward_mode=reward_mode,
            primer=primer,
            corpus=corpus,
            corpus_primer_steps=corpus_primer_steps,
            max_primer_length=max_primer_length,
            torch_threads=torch_threads,
        )
        self._init_core(core, render_mode)

    @property
    def reward_rnn(self) -> NoteRNN:
        """The frozen Reward RNN (a copy of the checkpoint)."""
        return self.core.reward_rnn

    @property
    def melody(self) -> np.ndarray:
        """The notes of the melody so far, int64 (a copy)."""
        return self.sequence

    def resolve_primer(self, primer: object) -> np.ndarray:
        """A ``reset`` primer option: a MIDI/ABC file or classes (:func:`melody_env.task.resolve_primer`)."""
        return resolve_primer(primer)

    def _check_action(self, action: object) -> int:
        return _check_action(action)

    def _complete_message(self) -> str:
        return f"the melody is complete ({self.core.melody_length} notes) or not started; call reset() before step()"

    def _show(self) -> None:
        if self._window is not None:
            self._window.show(render_melody("rgb_array", self.core.primers[0], self.melody, self.core.melody_length))

    def close(self) -> None:
        """Close the ``"human"`` window, if one is open."""
        if self._window is not None:
            self._window.close()

    def render(self) -> str | np.ndarray | None:
        """Note names (``"ansi"``) or a piano roll (``"rgb_array"``) of the melody so far; ``"human"`` draws at
        every step and returns ``None``."""
        if self.render_mode == "human":
            return None
        return super().render()


def _check_action(action: object) -> int:
    """``action`` as an int class, or a ``TypeError``/``ValueError`` naming what is wrong."""
    if isinstance(action, (bool, np.bool_)):
        raise TypeError(f"action must be an int note class 0..{NUM_CLASSES - 1}, got bool {action!r}")
    if isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
        action = action.item()
    if not isinstance(action, (int, np.integer)):
        kind = type(action).__name__
        raise TypeError(f"action must be an int note class 0..{NUM_CLASSES - 1}, got {kind} {action!r}")
    if not 0 <= action < NUM_CLASSES:
        raise ValueError(f"action must be a note class 0..{NUM_CLASSES - 1}, got {action}")
    return int(action)


__all__ = ["MelodyComposeEnv"]
