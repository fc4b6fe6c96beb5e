"""Drives the dashboard in headless Chromium (Debian's chromium and chromedriver,
through Selenium): log in with an API token, open the campaign, approve a proposed
destructive action that another person proposed, check the audit trail names the
approver, and save a screenshot.

usage: dashboard_browser.py BASE_URL TOKEN CAMPAIGN APPROVER SCREENSHOT
"""

import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def fail(message):
    print(f"dashboard check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    base, token, campaign, approver, screenshot = sys.argv[1:6]
    profile = tempfile.mkdtemp(prefix="td-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,2000",
    ]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.set_page_load_timeout(30)
        # A click that submits a form returns before the next page is there: every
        # lookup waits (up to 15 s) for its element, and each step looks for one that
        # only the next page has.
        driver.implicitly_wait(15)
        driver.get(f"{base}/ui/")
        if "/ui/login" not in driver.current_url:
            fail(f"without a session the dashboard should ask to log in, got {driver.current_url}")
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.ID, "login").click()
        links = driver.find_elements(By.LINK_TEXT, campaign)
        if not links:
            fail(f"campaign {campaign!r} is not in the list: {driver.find_element(By.TAG_NAME, 'body').text[:500]}")
        links[0].click()
        if driver.find_element(By.ID, "campaign").text != campaign:
            fail("the campaign page did not open")

        # A destructive action (quarantine, disable-account) that alice proposed:
        # the two-person rule is what lets bob, and only another person, approve it.
        buttons = [
            b
            for b in driver.find_elements(By.CSS_SELECTOR, "#action-queue button.approve")
            if b.get_attribute("data-kind") in ("quarantine", "disable-account")
        ]
        if not buttons:
            fail("no Approve button for a destructive action: " + driver.find_element(By.ID, "action-queue").text[:800])
        action_id = buttons[0].get_attribute("data-action")
        row = driver.find_element(By.ID, action_id)
        print(f"approving {action_id}: {row.text}")
        buttons[0].click()

        flash = driver.find_element(By.ID, "flash").text
        if not flash.startswith("approved"):
            fail(f"the approval was refused: {flash}")
        row = driver.find_element(By.ID, action_id)
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        if "approved" not in cells or approver not in cells:
            fail(f"the queue does not show the action approved by {approver}: {cells}")
        audit = [
            [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, "#audit tr")
        ]
        hits = [r for r in audit if len(r) >= 5 and r[2] == approver and r[3] == "action.approved" and r[4] == action_id]
        if not hits:
            fail(f"the audit trail does not show {approver} approving {action_id}")
        print(f"audit trail: #{hits[0][0]} {hits[0][1]} {approver} action.approved {action_id}")

        # The whole page, for people to look at.
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, min(max(height + 40, 800), 4000))
        time.sleep(0.2)
        if not driver.save_screenshot(screenshot):
            fail(f"could not write {screenshot}")
        print(f"screenshot: {screenshot}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
