import io
import zipfile

import pytest

from jiebang import tokens
from web.app import create_app


@pytest.fixture
def app(settings, engine):
    app = create_app(settings)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def published(world, session):
    """A published challenge ('parity') open on the real clock, committed."""
    item = world.challenge(
        opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00"
    )
    session.commit()
    return item


@pytest.fixture
def token_for(session):
    def make(user, scope="manage"):
        token = tokens.issue_token(session, user=user, scope=scope)
        session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


def bundle_zip(main: str = "print('hi')\n") -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("main.py", main)
    data.seek(0)
    return data


@pytest.fixture
def make_bundle_zip():
    return bundle_zip
