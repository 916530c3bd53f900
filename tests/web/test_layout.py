"""Every page is the one layout (nav, message box, wallet chooser) around its own content."""

import re

import pytest

from backend.web import create_app
from backend.web.pages import PAGES

SCRIPTS = {"": "gallery", "project": "project", "token": "token", "artist": "artist", "mine": "mine", "styles": "styles",
           "review": "review"}


@pytest.fixture
def client(tmp_path):
    from backend.ipfs.embedded import EmbeddedStore

    return create_app({"IPFS_STORE": EmbeddedStore(tmp_path / "ipfs")}).test_client()


@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_page_is_the_layout_around_its_content(client, page):
    response = client.get(f"/{page}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    for shared in ('id="connect"', 'id="messages"', 'id="chooser"', "<nav>"):
        assert html.count(shared) == 1, (page, shared)
    assert re.findall(r'src="/static/js/(\w+)\.js"', html) == [SCRIPTS[page]]
    assert "{%" not in html and "{#" not in html  # rendered, not served raw
    assert re.search(r"<title>stylemint: [\w ]+</title>", html)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html  # phones: no zoomed-out page
