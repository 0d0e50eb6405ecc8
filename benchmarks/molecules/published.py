"""Published numbers to compare the molecule table against, with their sources.

MOSES (Polykovskiy et al., "Molecular Sets (MOSES): A Benchmarking Platform for Molecular Generation
Models", Front. Pharmacol. 11:565644, 2020): the metrics table of the MOSES repository's README
(github.com/molecularsets/moses, commit dd7ed6ab, 2023), as printed there (mean ± std), against the full
test split. CharRNN is MOSES's character-level LSTM language model trained on all of MOSES train;
"Train" is the training set itself judged as if generated (its Novelty is printed as 1.0 there).

Sequence Tutor (Jaques et al., "Sequence Tutor: Conservative Fine-Tuning of Sequence Generation Models
with KL-control", ICML 2017) reports Q, Ψ and G tuning of a SMILES RNN (prior trained on ZINC) with
validity, logP, SA, ring and length penalties and QED as rewards. Its table's numbers are not copied
here: they could not be checked against the paper on this machine, and its prior, data and reward scales
differ from this project's, so its numbers compare only as directions of change.
"""

from __future__ import annotations

MOSES_SOURCE = "MOSES README metrics table (github.com/molecularsets/moses @ dd7ed6ab; Polykovskiy et al. 2020)"
MOSES = {
    "CharRNN (MOSES)": {
        "valid": "0.9748±0.0264",
        "unique@1k": "1.0±0.0",
        "unique@10k": "0.9994±0.0003",
        "FCD/Test": "0.0732±0.0247",
        "SNN/Test": "0.6015±0.0206",
        "Frag/Test": "0.9998±0.0002",
        "Scaf/Test": "0.9242±0.0058",
        "IntDiv": "0.8562±0.0005",
        "IntDiv2": "0.8503±0.0005",
        "Filters": "0.9943±0.0034",
        "Novelty": "0.8419±0.0509",
    },
    "Train (MOSES)": {
        "valid": "1.0",
        "unique@1k": "1.0",
        "unique@10k": "1.0",
        "FCD/Test": "0.008",
        "SNN/Test": "0.6419",
        "Frag/Test": "1.0",
        "Scaf/Test": "0.9907",
        "IntDiv": "0.8567",
        "IntDiv2": "0.8508",
        "Filters": "1.0",
        "Novelty": "1.0",
    },
}
SEQUENCE_TUTOR_SOURCE = (
    "Jaques et al., Sequence Tutor, ICML 2017: Q/Ψ/G tuning of a SMILES RNN with validity, logP, SA, ring and "
    "length penalties and QED (numbers not copied, see benchmarks/molecules/published.py)"
)

__all__ = ["MOSES", "MOSES_SOURCE", "SEQUENCE_TUTOR_SOURCE"]
