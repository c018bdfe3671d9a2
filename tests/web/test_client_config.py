"""The client's kept token goes only to the server that issued it."""

from jiebang_client import config
from jiebang_client.api import Client


def test_the_kept_token_is_sent_only_to_its_own_server(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config.save({"server": "https://jiebang.example", "token": "secret", "token_id": 1})
    assert Client(None, None).token == "secret"
    assert Client("https://jiebang.example/", None).token == "secret"
    assert Client("https://elsewhere.example", None).token is None  # not leaked there
    assert Client("https://elsewhere.example", "given").token == "given"
