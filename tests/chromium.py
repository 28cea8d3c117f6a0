"""Debian's Chromium, headless, driven by Playwright (never `playwright install`), for the browser tests."""

from __future__ import annotations

import shutil
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import AsyncIterator, Iterator

from playwright.async_api import Browser as AsyncBrowser
from playwright.async_api import async_playwright
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH = {"executable_path": CHROMIUM, "args": ["--no-sandbox"]}
RESULTS = Path(__file__).resolve().parent.parent / "results"  # the screenshots, some of them in docs/


@asynccontextmanager
async def chromium() -> AsyncIterator[AsyncBrowser]:
    """For tests on the event loop (the console and survey pages served in-process)."""
    RESULTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**LAUNCH)
        try:
            yield browser
        finally:
            await browser.close()


@contextmanager
def chromium_sync() -> Iterator[Browser]:
    """For the whole-stack tests, which drive separate processes from plain functions."""
    RESULTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**LAUNCH)
        try:
            yield browser
        finally:
            browser.close()
