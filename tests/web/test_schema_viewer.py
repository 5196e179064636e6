"""``/schema``, the API documentation, loads its viewer from Comptoir itself: no CDN."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from comptoir.web.api_docs import VIEWER_DIR

# Every URL the page names: src/href attributes, and url(...) in inline styles.
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


def references(html: str) -> list[str]:
    return [a or b for a, b in REFERENCE.findall(html)]


async def test_the_schema_page_names_no_other_host_and_its_files_are_served(
    admin: httpx.AsyncClient,
) -> None:
    page = await admin.get("/schema")
    assert page.status_code == 200
    assert "SwaggerUIBundle" in page.text
    urls = references(page.text)
    assert urls, "the page loads no script or style at all"
    assert not [url for url in urls if urlsplit(url).netloc or url.startswith("//")], urls
    assert "cdn." not in page.text and "https://" not in page.text.split("spec:")[0]

    scripts_and_styles = [url for url in urls if url.endswith((".js", ".css", ".png"))]
    assert len(scripts_and_styles) == 4, scripts_and_styles
    for url in scripts_and_styles:
        asset = await admin.get(url)
        assert asset.status_code == 200, url
        assert asset.content == (VIEWER_DIR / url.rsplit("/", 1)[1]).read_bytes()
    bundle = await admin.get("/schema/viewer/swagger-ui-bundle.js")
    assert "javascript" in bundle.headers["content-type"]


async def test_the_schema_viewers_files_are_only_what_was_built(admin: httpx.AsyncClient) -> None:
    assert (await admin.get("/schema/viewer/not-there.js")).status_code == 404
