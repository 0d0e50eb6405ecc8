"""A real browser takes the study: Debian's chromium, headless, driven by Selenium through chromedriver.

The listener plays both melodies of each pair to the end, rates 10 pairs (two of them attention checks),
reloads in the middle and finishes; the database must hold exactly the ratings clicked, and no page may
show a model's name.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest

from listening_study import db
from listening_study.app import create_app
from listening_study.server import Background

from .conftest import shows_a_model

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)
CLICKS = [2, 7, 4, 1, 6, 3, 5, 2, 6, 1]  # the Likert value chosen at positions 1..10
RELOAD_AT = 5


def browser(profile: Path):
    """Headless chromium under chromedriver (no driver or browser download)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required", "--window-size=1000,900",
                 f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def _visible_text_has_no_model(driver) -> None:
    assert shows_a_model(driver.page_source) is None, shows_a_model(driver.page_source)
    assert shows_a_model(driver.title) is None


def _progress(driver) -> str | None:
    return driver.execute_script("const p = document.getElementById('progress'); return p && p.textContent")


def _listen_to_both(driver, wait) -> None:
    from selenium.webdriver.common.by import By

    assert driver.find_element(By.ID, "scale").get_attribute("disabled") is not None
    for side in ("a", "b"):
        driver.find_element(By.ID, f"play-{side}").click()
        wait.until(lambda d, s=side: "done" in d.find_element(By.ID, f"player-{s}").get_attribute("class"))
    wait.until(lambda d: d.find_element(By.ID, "scale").get_attribute("disabled") is None)


def test_a_listener_takes_the_study_in_chromium(make_study, tmp_path: Path) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    study = make_study(pairs=8, per_model=4)  # + 2 attention checks = 10 pairs
    with Background(create_app(study, secrets.token_urlsafe(12))) as server:
        driver = browser(tmp_path / "profile")
        try:
            wait = WebDriverWait(driver, 20, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,))
            driver.get(server.url + "/")
            _visible_text_has_no_model(driver)
            driver.find_element(By.NAME, "consent").click()
            driver.find_element(By.ID, "start").click()
            for position, value in enumerate(CLICKS, start=1):
                wait.until(lambda d, p=position: _progress(d) == f"Pair {p} of 10")
                _visible_text_has_no_model(driver)
                if position == RELOAD_AT:
                    _listen_to_both(driver, wait)
                    driver.refresh()  # mid-pair: the same pair comes back, locked again
                    wait.until(lambda d: _progress(d) == f"Pair {RELOAD_AT} of 10")
                _listen_to_both(driver, wait)
                assert driver.find_element(By.ID, "submit").get_attribute("disabled") is not None
                driver.find_element(By.ID, f"likert-{value}").click()
                driver.find_element(By.ID, "submit").click()
            wait.until(lambda d: d.execute_script("return document.getElementById('done') !== null"))
            assert "You rated all 10 pairs" in driver.find_element(By.ID, "done").text
            _visible_text_has_no_model(driver)
        finally:
            driver.quit()
    rows = db.ratings(db.connect(study))
    assert [r["position"] for r in rows] == list(range(1, 11))
    assert [r["likert"] for r in rows] == CLICKS
    assert len({r["listener"] for r in rows}) == 1 and len({r["submission_id"] for r in rows}) == 10
    assert all(r["plays_a"] >= 1 and r["plays_b"] >= 1 for r in rows)
    assert all(0.2 < r["seconds_a"] < 1.0 and 0.2 < r["seconds_b"] < 1.0 for r in rows)  # each melody is 0.4 s
    assert sorted(r["check_kind"] for r in rows if r["check_kind"]) == ["anchor", "identical"]
    listener = db.listeners(db.connect(study))[0]
    assert listener["finished"] is not None and listener["ratings"] == 10
