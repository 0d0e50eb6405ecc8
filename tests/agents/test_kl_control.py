"""The c controller: hand-computed steps, direction, settling on a toy KL(c), checkpoints, bad input."""

import json

import pytest

from agents.adaptive_c import AdaptiveC, FixedC, controller_from_state, make_c_controller, proportional_error


def test_proportional_error_is_clipped():
    assert proportional_error(0.11, 0.1) == pytest.approx(0.1)
    assert proportional_error(0.3, 0.1) == pytest.approx(0.2)  # 2.0 clipped
    assert proportional_error(0.0, 0.1) == pytest.approx(-0.2)  # -1.0 clipped
    assert proportional_error(0.095, 0.1) == pytest.approx(-0.05)


def test_one_step_on_hand_numbers():
    controller = AdaptiveC(c_init=0.5, target_kl=0.1, horizon=1_000, k_p=0.1)
    # KL 3x the target: e = 0.2, c = 0.5 * (1 + 0.1 * 0.2 * 500 / 1000) = 0.5 * 1.01
    assert controller.update(0.3, 500) == pytest.approx(0.505)
    # KL 0.09: e = -0.1, c = 0.505 * (1 - 0.1 * 0.1 * 2000 / 1000) = 0.505 * 0.98
    assert controller.update(0.09, 2_000) == pytest.approx(0.4949)
    assert controller.c == pytest.approx(0.4949)
    assert controller.update(5.0, 0) == pytest.approx(0.4949)  # no notes, no step


def test_c_moves_toward_the_prior_when_kl_is_above_target():
    up, down, level = (AdaptiveC(0.5, target_kl=0.2) for _ in range(3))
    assert up.update(0.4, 1_000) > 0.5  # too far from the prior: more weight on it
    assert down.update(0.1, 1_000) < 0.5  # closer than needed: more weight on the rules
    assert level.update(0.2, 1_000) == pytest.approx(0.5)


def test_kl_settles_at_the_target_on_a_toy_signal():
    # a policy whose KL falls as c rises: KL(c) = 0.3 / c, so KL = 0.1 at c = 3
    controller = AdaptiveC(c_init=0.5, target_kl=0.1, horizon=1_000, k_p=0.1)
    history = []
    for _ in range(3_000):
        history.append(controller.update(0.3 / controller.c, 2_048))
    assert history[0] > 0.5 and history[:200] == sorted(history[:200])  # rises monotonically toward 3
    assert controller.c == pytest.approx(3.0, rel=0.01)
    assert 0.3 / controller.c == pytest.approx(0.1, rel=0.01)


def test_state_dict_round_trip_through_json():
    controller = AdaptiveC(0.7, target_kl=0.3, horizon=500, k_p=0.2)
    controller.update(1.0, 100)
    state = json.loads(json.dumps(controller.state_dict()))
    restored = controller_from_state(state)
    assert isinstance(restored, AdaptiveC) and restored.state_dict() == controller.state_dict()
    assert restored.update(0.0, 100) == controller.update(0.0, 100)
    fixed = controller_from_state(FixedC(0.25).state_dict())
    assert isinstance(fixed, FixedC) and fixed.update(9.0, 10_000) == 0.25
    with pytest.raises(ValueError, match="'adaptive' c controller"):
        AdaptiveC().load_state_dict(fixed.state_dict())


def test_make_c_controller_and_bad_input():
    assert isinstance(make_c_controller(0.5), FixedC)
    auto = make_c_controller("auto", target_kl=0.4, c_init=2.0)
    assert isinstance(auto, AdaptiveC) and auto.c == 2.0 and auto.target_kl == 0.4
    with pytest.raises(ValueError, match="pass target_kl"):
        make_c_controller("auto")
    with pytest.raises(ValueError, match="drop target_kl or pass c='auto'"):
        make_c_controller(0.5, target_kl=0.1)
    with pytest.raises(ValueError, match="a number > 0 or 'auto'"):
        make_c_controller("adaptive")
    with pytest.raises(ValueError, match="c must be a finite number > 0"):
        make_c_controller(-1.0)
    with pytest.raises(ValueError, match="kl_per_note must be a finite number"):
        AdaptiveC().update(float("nan"), 10)
    with pytest.raises(ValueError, match="n_notes must be an int"):
        AdaptiveC().update(0.1, -1)
    with pytest.raises(ValueError, match="would make c negative"):
        AdaptiveC(horizon=10, k_p=1.0).update(0.0, 100)
