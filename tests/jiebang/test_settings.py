import pytest

from jiebang.settings import load_settings


def test_defaults_put_everything_under_instance(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("JIEBANG_DATABASE_URL", "JIEBANG_DATA_DIR", "JIEBANG_ENV", "JIEBANG_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.data_dir == tmp_path / "instance"
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'jiebang.db'}"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.sandbox_runtime == "runc"


def test_environment_is_read_when_loaded(monkeypatch, tmp_path):
    monkeypatch.setenv("JIEBANG_SANDBOX_RUNTIME", "runsc")
    monkeypatch.setenv("JIEBANG_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.sandbox_runtime == "runsc"
    assert settings.blob_dir == tmp_path / "blobs"


def test_the_namespace_of_redis_keys_is_the_queue_name_unless_set(monkeypatch):
    monkeypatch.delenv("JIEBANG_NAMESPACE", raising=False)
    assert load_settings(queue_name="q1").namespace == "q1"
    monkeypatch.setenv("JIEBANG_NAMESPACE", "site-a")
    settings = load_settings(queue_name="q1")
    assert (settings.namespace, settings.queue_name) == ("site-a", "q1")


def test_production_requires_a_secret(monkeypatch):
    monkeypatch.delenv("JIEBANG_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="JIEBANG_SECRET_KEY"):
        load_settings(env="production")


def test_unknown_runtime_is_refused(monkeypatch):
    monkeypatch.setenv("JIEBANG_SANDBOX_RUNTIME", "kata")
    with pytest.raises(ValueError, match="sandbox_runtime"):
        load_settings()
